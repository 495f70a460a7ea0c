// sessions.*: authenticate (token, JWT, extension, custom claims), the JWT
// itself, authenticateJwt / authenticateJwtLocal against the JWKS, get,
// getJWKS and revoke.

import assert from "node:assert/strict";
import crypto from "node:crypto";
import { describe, test, before } from "node:test";
import stytch from "stytch";
import {
  main,
  other,
  client,
  expectStytchError,
  assertRequestId,
  uniqueEmail,
  decodeJwt,
  isoWithin,
  signIn,
  ID,
} from "../lib/helpers.mjs";

const c = client();
const SESSION_CLAIM = "https://stytch.com/session";

describe("sessions.authenticate", () => {
  const email = uniqueEmail("sess");
  let login;

  before(async () => {
    login = await signIn(c, email);
  });

  test("by session_token returns the same session and the user", async () => {
    const res = await c.sessions.authenticate({ session_token: login.session_token });
    assert.equal(res.status_code, 200);
    assertRequestId(res);
    assert.equal(res.session.session_id, login.session.session_id);
    assert.equal(res.session.user_id, login.user_id);
    assert.equal(res.session_token, login.session_token);
    assert.equal(res.session_jwt.split(".").length, 3);
    assert.equal(res.user.user_id, login.user_id);
    assert.equal(res.user.emails[0].email, email);
    assert.equal(res.user.emails[0].verified, true);
    assert.equal(res.session.started_at, login.session.started_at);
    assert.equal(res.session.expires_at, login.session.expires_at, "no duration given: expiry unchanged");
    assert.ok(Date.parse(res.session.last_accessed_at) >= Date.parse(login.session.last_accessed_at));
    assert.deepEqual(res.session.authentication_factors, login.session.authentication_factors);
    assert.ok(res.session.roles.includes("stytch_user"), `every session has the stytch_user role: ${res.session.roles}`);
  });

  test("by session_jwt", async () => {
    const res = await c.sessions.authenticate({ session_jwt: login.session_jwt });
    assert.equal(res.status_code, 200);
    assert.equal(res.session.session_id, login.session.session_id);
    assert.equal(res.user.user_id, login.user_id);
    assert.equal(res.session_jwt.split(".").length, 3);
  });

  test("session_duration_minutes extends expires_at", async () => {
    const t0 = Date.now();
    const res = await c.sessions.authenticate({ session_token: login.session_token, session_duration_minutes: 120 });
    isoWithin(res.session.expires_at, t0 + 119 * 60_000, Date.now() + 121 * 60_000, "expires_at");
    assert.ok(Date.parse(res.session.expires_at) > Date.parse(login.session.expires_at));
    const again = await c.sessions.authenticate({ session_token: login.session_token });
    assert.equal(again.session.expires_at, res.session.expires_at, "the extension sticks");
  });

  test("session_custom_claims land in session.custom_claims and in the JWT; null deletes", async () => {
    const res = await c.sessions.authenticate({
      session_token: login.session_token,
      session_custom_claims: { tier: "gold", nested: { a: 1, b: [true, "x"] }, temp: 42 },
    });
    assert.deepEqual(res.session.custom_claims, { tier: "gold", nested: { a: 1, b: [true, "x"] }, temp: 42 });
    const { payload } = decodeJwt(res.session_jwt);
    assert.equal(payload.tier, "gold");
    assert.deepEqual(payload.nested, { a: 1, b: [true, "x"] });
    assert.equal(payload.temp, 42);

    const later = await c.sessions.authenticate({ session_token: login.session_token, session_custom_claims: { temp: null } });
    assert.deepEqual(later.session.custom_claims, { tier: "gold", nested: { a: 1, b: [true, "x"] } });
    const p2 = decodeJwt(later.session_jwt).payload;
    assert.equal(p2.tier, "gold");
    assert.ok(!("temp" in p2), "deleted claim gone from the JWT");

    const plain = await c.sessions.authenticate({ session_token: login.session_token });
    assert.deepEqual(plain.session.custom_claims, { tier: "gold", nested: { a: 1, b: [true, "x"] } }, "claims persist");
  });

  test("both session_token and session_jwt → too_many_session_arguments", async () => {
    await expectStytchError(
      c.sessions.authenticate({ session_token: login.session_token, session_jwt: login.session_jwt }),
      { error_type: "too_many_session_arguments", status_code: 400 },
    );
  });

  test("unknown session_token → session_not_found", async () => {
    await expectStytchError(c.sessions.authenticate({ session_token: crypto.randomBytes(33).toString("base64url") }), {
      error_type: "session_not_found",
      status_code: 404,
    });
  });
});

describe("the session JWT", () => {
  let login;
  let jwks;
  before(async () => {
    login = await signIn(c, uniqueEmail("jwt"), { session_custom_claims: { app_role: "editor" } });
    jwks = await c.sessions.getJWKS({ project_id: main.project_id });
  });

  test("header: RS256, JWT, kid from the JWKS", () => {
    const { header } = decodeJwt(login.session_jwt);
    assert.equal(header.alg, "RS256");
    assert.equal(header.typ, "JWT");
    assert.match(header.kid, /^jwk-test-/);
    assert.ok(jwks.keys.some((k) => k.kid === header.kid), "kid is in the project's JWKS");
  });

  test("registered claims and the Stytch session claim", () => {
    const { payload } = decodeJwt(login.session_jwt);
    const s = login.session;
    assert.equal(payload.iss, `stytch.com/${main.project_id}`);
    assert.ok(Array.isArray(payload.aud), "aud is an array");
    assert.ok(payload.aud.includes(main.project_id));
    assert.equal(payload.sub, login.user_id);
    assert.equal(payload.exp - payload.iat, 300);
    assert.ok(Math.abs(payload.iat - Date.now() / 1000) < 60, "iat is now");
    if (payload.nbf !== undefined) assert.ok(payload.nbf <= payload.iat);
    assert.equal(payload.app_role, "editor");

    const claim = payload[SESSION_CLAIM];
    assert.ok(claim, "https://stytch.com/session claim present");
    assert.equal(claim.id, s.session_id);
    assert.equal(Date.parse(claim.started_at), Date.parse(s.started_at));
    assert.equal(Date.parse(claim.expires_at), Date.parse(s.expires_at));
    assert.ok(!Number.isNaN(Date.parse(claim.last_accessed_at)));
    assert.equal(typeof claim.attributes, "object");
    assert.ok("ip_address" in claim.attributes && "user_agent" in claim.attributes);
    assert.equal(claim.authentication_factors.length, 1);
    assert.equal(claim.authentication_factors[0].type, "magic_link");
    assert.equal(claim.authentication_factors[0].delivery_method, "email");
    assert.equal(claim.authentication_factors[0].email_factor.email_id, login.sent.email_id);
    assert.ok(Array.isArray(claim.roles));
    assert.deepEqual(claim.roles, s.roles);
  });

  test("sessions.getJWKS returns RSA signing keys", () => {
    assert.equal(jwks.status_code, 200);
    assertRequestId(jwks);
    assert.ok(jwks.keys.length >= 1);
    for (const k of jwks.keys) {
      assert.match(k.kid, /^jwk-test-/);
      assert.equal(k.alg, "RS256");
      assert.equal(k.kty, "RSA");
      assert.equal(k.use, "sig");
      assert.equal(typeof k.n, "string");
      assert.equal(k.e, "AQAB");
    }
  });

  test("sessions.authenticateJwtLocal verifies against the JWKS", async () => {
    const s = await c.sessions.authenticateJwtLocal({ session_jwt: login.session_jwt });
    assert.equal(s.session_id, login.session.session_id);
    assert.equal(s.user_id, login.user_id);
    assert.equal(s.authentication_factors.length, 1);
    assert.equal(s.authentication_factors[0].email_factor.email_id, login.sent.email_id);
    assert.deepEqual(s.custom_claims, { app_role: "editor" });
    assert.equal(Date.parse(s.expires_at), Date.parse(login.session.expires_at));
    assert.equal(Date.parse(s.started_at), Date.parse(login.session.started_at));
  });

  test("sessions.authenticateJwt verifies locally (no API round-trip)", async () => {
    const res = await c.sessions.authenticateJwt({ session_jwt: login.session_jwt });
    // The local path returns exactly {session, session_jwt}; the remote fallback
    // would carry request_id/status_code.
    assert.ok(!("request_id" in res), `verified locally, not via the API fallback: ${JSON.stringify(res).slice(0, 200)}`);
    assert.equal(res.session_jwt, login.session_jwt);
    assert.equal(res.session.session_id, login.session.session_id);
    assert.equal(res.session.user_id, login.user_id);
  });

  test("a tampered JWT fails local verification", async () => {
    const [h, p, sig] = login.session_jwt.split(".");
    const payload = JSON.parse(Buffer.from(p, "base64url").toString());
    payload.sub = "user-test-00000000-0000-4000-8000-000000000000";
    const forged = [h, Buffer.from(JSON.stringify(payload)).toString("base64url"), sig].join(".");
    await assert.rejects(c.sessions.authenticateJwtLocal({ session_jwt: forged }), (e) => {
      assert.ok(e instanceof stytch.ClientError, `ClientError, got ${e?.constructor?.name}`);
      assert.equal(e.code, "jwt_invalid");
      return true;
    });
  });

  test("a JWT for another project is refused locally", async () => {
    // Project B's client fetches B's JWKS and expects B's audience.
    // (A client for a project that does not exist would leave jose's JWKS
    // socket open after the 404 until the server's idle timeout.)
    await assert.rejects(client(other).sessions.authenticateJwtLocal({ session_jwt: login.session_jwt }), (e) => {
      assert.ok(e instanceof stytch.ClientError, `ClientError, got ${e?.constructor?.name}`);
      assert.equal(e.code, "jwt_invalid");
      return true;
    });
  });
});

describe("sessions.get", () => {
  test("lists the user's active sessions", async () => {
    const email = uniqueEmail("list");
    const a = await signIn(c, email);
    const b = await signIn(c, email);
    assert.notEqual(a.session.session_id, b.session.session_id);
    const res = await c.sessions.get({ user_id: a.user_id });
    assert.equal(res.status_code, 200);
    assertRequestId(res);
    const ids = res.sessions.map((s) => s.session_id).sort();
    assert.deepEqual(ids, [a.session.session_id, b.session.session_id].sort());
    for (const s of res.sessions) {
      assert.match(s.session_id, ID.session);
      assert.equal(s.user_id, a.user_id);
      assert.equal(s.authentication_factors[0].type, "magic_link");
      assert.ok(!Number.isNaN(Date.parse(s.expires_at)));
    }
  });

  test("a user without sessions → empty list", async () => {
    const u = await c.users.create({ email: uniqueEmail("nosess") });
    const res = await c.sessions.get({ user_id: u.user_id });
    assert.deepEqual(res.sessions, []);
  });
});

describe("sessions.revoke", () => {
  for (const by of ["session_id", "session_token", "session_jwt"]) {
    test(`by ${by}; then authenticate → session_not_found`, async () => {
      const login = await signIn(c, uniqueEmail(`revoke-${by.replace("_", "")}`));
      const arg = by === "session_id" ? login.session.session_id : login[by];
      const res = await c.sessions.revoke({ [by]: arg });
      assert.equal(res.status_code, 200);
      assertRequestId(res);
      await expectStytchError(c.sessions.authenticate({ session_token: login.session_token }), {
        error_type: "session_not_found",
        status_code: 404,
      });
      await expectStytchError(c.sessions.authenticate({ session_jwt: login.session_jwt }), {
        error_type: "session_not_found",
        status_code: 404,
      });
      const list = await c.sessions.get({ user_id: login.user_id });
      assert.deepEqual(list.sessions, []);
      // max_token_age_seconds: 0 makes authenticateJwt skip local verification and ask the API.
      await expectStytchError(c.sessions.authenticateJwt({ session_jwt: login.session_jwt, max_token_age_seconds: 0 }), {
        error_type: "session_not_found",
        status_code: 404,
      });
    });
  }

  test("revoking one session leaves the user's others alone", async () => {
    const email = uniqueEmail("revokeone");
    const a = await signIn(c, email);
    const b = await signIn(c, email);
    await c.sessions.revoke({ session_id: a.session.session_id });
    const ok = await c.sessions.authenticate({ session_token: b.session_token });
    assert.equal(ok.session.session_id, b.session.session_id);
    const list = await c.sessions.get({ user_id: a.user_id });
    assert.deepEqual(list.sessions.map((s) => s.session_id), [b.session.session_id]);
  });

  test("deleting the user ends their sessions", async () => {
    const login = await signIn(c, uniqueEmail("deluser"));
    await c.users.delete({ user_id: login.user_id });
    await expectStytchError(c.sessions.authenticate({ session_token: login.session_token }), {
      error_type: "session_not_found",
      status_code: 404,
    });
  });
});
