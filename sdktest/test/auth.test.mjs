// Authentication of API callers and isolation between projects and
// environments (test vs live).

import assert from "node:assert/strict";
import { describe, test, before } from "node:test";
import {
  main,
  other,
  live,
  client,
  expectStytchError,
  assertRequestId,
  uniqueEmail,
  signIn,
  outbox,
  rawRequest,
  ID,
} from "../lib/helpers.mjs";

const a = client(main);
const b = client(other);
const anyRequestId = /^request-id-(test|live)-[0-9a-f-]{36}$/;

describe("API credentials", () => {
  test("wrong secret → 401 unauthorized_credentials", async () => {
    const bad = client(main, { secret: "secret-test-wrongwrongwrongwrongwrongwrongwrong=" });
    const err = await expectStytchError(bad.users.create({ email: uniqueEmail("badsecret") }), {
      error_type: "unauthorized_credentials",
      status_code: 401,
      request_id: anyRequestId,
    });
    assert.match(err.request_id, /^request-id-/);
  });

  test("another project's secret → 401 unauthorized_credentials", async () => {
    const mixed = client(main, { secret: other.secret });
    await expectStytchError(mixed.users.search({ limit: 1 }), {
      error_type: "unauthorized_credentials",
      status_code: 401,
      request_id: anyRequestId,
    });
  });

  test("unknown project_id → 401 unauthorized_credentials", async () => {
    const ghost = client({ project_id: "project-test-00000000-0000-4000-8000-000000000000", secret: main.secret });
    await expectStytchError(ghost.sessions.get({ user_id: "user-test-00000000-0000-4000-8000-000000000000" }), {
      error_type: "unauthorized_credentials",
      status_code: 401,
      request_id: anyRequestId,
    });
  });

  test("no Authorization header → 401 unauthorized_credentials", async () => {
    const res = await rawRequest("/v1/users/search", { method: "POST", body: {}, auth: false });
    assert.equal(res.status, 401);
    const body = await res.json();
    assert.equal(body.status_code, 401);
    assert.equal(body.error_type, "unauthorized_credentials");
    assert.match(body.request_id, /^request-id-/);
  });

  test("wrong secret on the dev outbox → 401", async () => {
    const res = await rawRequest("/v1/dev/outbox?to=x%40example.com", { project: { ...main, secret: "nope" } });
    assert.equal(res.status, 401);
    assert.equal((await res.json()).error_type, "unauthorized_credentials");
  });
});

describe("project isolation (A = dev project, B = created with the CLI)", () => {
  let userA;
  let loginA;
  let emailA;
  before(async () => {
    assert.notEqual(main.project_id, other.project_id);
    assert.match(other.project_id, /^project-test-/);
    emailA = uniqueEmail("tenant-a");
    loginA = await signIn(a, emailA);
    userA = loginA.user;
  });

  test("B's credentials work for B's own data", async () => {
    const created = await b.users.create({ email: uniqueEmail("tenant-b") });
    assert.match(created.user_id, ID.user);
    assertRequestId(created);
    const got = await b.users.get({ user_id: created.user_id });
    assert.equal(got.user_id, created.user_id);
  });

  test("the same email may exist in both projects", async () => {
    const created = await b.users.create({ email: emailA });
    assert.notEqual(created.user_id, userA.user_id);
    assert.equal(created.user.emails[0].email, emailA);
  });

  test("B cannot read A's user", async () => {
    await expectStytchError(b.users.get({ user_id: userA.user_id }), { error_type: "user_not_found", status_code: 404 });
  });

  test("B cannot update or delete A's user", async () => {
    await expectStytchError(b.users.update({ user_id: userA.user_id, name: { first_name: "Mallory" } }), {
      error_type: "user_not_found",
      status_code: 404,
    });
    await expectStytchError(b.users.delete({ user_id: userA.user_id }), { error_type: "user_not_found", status_code: 404 });
    await expectStytchError(b.users.deleteEmail({ email_id: userA.emails[0].email_id }), {
      error_type: "email_not_found",
      status_code: 404,
    });
    const still = await a.users.get({ user_id: userA.user_id });
    assert.equal(still.emails[0].email, emailA);
    assert.notEqual(still.name?.first_name, "Mallory");
  });

  test("B's search does not see A's users", async () => {
    const res = await b.users.search({
      query: { operator: "AND", operands: [{ filter_name: "user_id", filter_value: [userA.user_id] }] },
    });
    assert.deepEqual(res.results, []);
    assert.equal(res.results_metadata.total, 0);
  });

  test("B cannot authenticate or revoke A's session", async () => {
    await expectStytchError(b.sessions.authenticate({ session_token: loginA.session_token }), {
      error_type: "session_not_found",
      status_code: 404,
    });
    // A's JWT is signed for A's audience with A's key.
    const err = await b.sessions.authenticate({ session_jwt: loginA.session_jwt }).then(
      (r) => assert.fail(`B authenticated A's JWT: ${JSON.stringify(r).slice(0, 200)}`),
      (e) => e,
    );
    assert.ok(err.status_code >= 400 && err.status_code < 500, `4xx, got ${err.status_code} ${err.error_type}`);
    await assert.rejects(b.sessions.authenticateJwtLocal({ session_jwt: loginA.session_jwt }));

    await expectStytchError(b.sessions.revoke({ session_id: loginA.session.session_id }), {
      error_type: "session_not_found",
      status_code: 404,
    });
    await expectStytchError(b.sessions.revoke({ session_token: loginA.session_token }), {
      error_type: "session_not_found",
      status_code: 404,
    });
    await expectStytchError(b.sessions.get({ user_id: loginA.user_id }), { error_type: "user_not_found", status_code: 404 });
    const ok = await a.sessions.authenticate({ session_token: loginA.session_token });
    assert.equal(ok.session.session_id, loginA.session.session_id, "A's session survives B's revoke");
  });

  test("B cannot mint magic links for A's user", async () => {
    await expectStytchError(b.magicLinks.create({ user_id: userA.user_id }), { error_type: "user_not_found", status_code: 404 });
  });

  test("A's magic-link token does not authenticate in B", async () => {
    await a.magicLinks.email.send({ email: emailA });
    const msgs = (await outbox(emailA, main)).messages;
    await expectStytchError(b.magicLinks.authenticate({ token: msgs[0].token }), {
      error_type: "magic_link_not_found",
      status_code: 404,
    });
    // Still usable in A.
    const ok = await a.magicLinks.authenticate({ token: msgs[0].token });
    assert.equal(ok.user_id, userA.user_id);
  });

  test("B's dev outbox does not show A's mail", async () => {
    const res = await outbox(emailA, other);
    assert.deepEqual(res.messages, []);
  });

  test("each project has its own signing keys", async () => {
    const ka = await a.sessions.getJWKS({ project_id: main.project_id });
    const kb = await b.sessions.getJWKS({ project_id: other.project_id });
    const kidsA = new Set(ka.keys.map((k) => k.kid));
    for (const k of kb.keys) assert.ok(!kidsA.has(k.kid), "B's kid differs from A's");
  });
});

describe("live environment", () => {
  const l = client(live);
  let loginA;
  before(async () => {
    assert.match(live.project_id, /^project-live-/);
    assert.match(live.secret, /^secret-live-/);
    assert.equal(live.environment, "live");
    loginA = await signIn(a, uniqueEmail("live-iso"));
  });

  test("live ids and request ids carry -live-", async () => {
    const created = await l.users.create({ email: uniqueEmail("liveuser") });
    assert.equal(created.status_code, 201);
    assert.match(created.user_id, /^user-live-[0-9a-f-]{36}$/);
    assert.match(created.email_id, /^email-live-[0-9a-f-]{36}$/);
    assertRequestId(created, ID.requestLive);
    const err = await expectStytchError(l.users.get({ user_id: "user-live-00000000-0000-4000-8000-000000000000" }), {
      error_type: "user_not_found",
      status_code: 404,
      request_id: ID.requestLive,
    });
    assert.match(err.request_id, /^request-id-live-/);
  });

  test("a live secret cannot see test data", async () => {
    await expectStytchError(l.users.get({ user_id: loginA.user_id }), {
      error_type: "user_not_found",
      status_code: 404,
      request_id: ID.requestLive,
    });
    await expectStytchError(l.sessions.authenticate({ session_token: loginA.session_token }), {
      error_type: "session_not_found",
      status_code: 404,
      request_id: ID.requestLive,
    });
    const res = await l.users.search({
      query: { operator: "AND", operands: [{ filter_name: "user_id", filter_value: [loginA.user_id] }] },
    });
    assert.equal(res.results_metadata.total, 0);
  });

  test("the dev outbox is not available to live projects → 404 route_not_supported_in_live", async () => {
    const res = await rawRequest("/v1/dev/outbox?to=x%40example.com", { project: live });
    assert.equal(res.status, 404);
    const body = await res.json();
    assert.equal(body.status_code, 404);
    assert.equal(body.error_type, "route_not_supported_in_live");
    assert.match(body.request_id, ID.requestLive);
  });

  test("the live project's signing keys are live keys", async () => {
    const jwks = await l.sessions.getJWKS({ project_id: live.project_id });
    for (const k of jwks.keys) assert.match(k.kid, /^jwk-live-/);
  });
});
