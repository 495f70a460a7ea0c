// magicLinks.*: email loginOrCreate / send / invite / revokeInvite, create
// (embeddable), authenticate (sessions, reuse, PKCE, adding factors), the
// emailed redirect link and redirect-URL allow-listing.

import assert from "node:assert/strict";
import crypto from "node:crypto";
import { describe, test, before } from "node:test";
import {
  base,
  main,
  client,
  expectStytchError,
  assertRequestId,
  latestMessage,
  waitForMessages,
  mixedCaseEmail,
  uniqueEmail,
  pkceChallenge,
  isoWithin,
  signIn,
  decodeJwt,
  DEFAULT_REDIRECT,
  ID,
} from "../lib/helpers.mjs";

const c = client();
const PROJECT_NAME = "Latch development project";
const bogusToken = () => crypto.randomBytes(33).toString("base64url"); // 44 chars, like a real token

function assertRedirectLink(link, token) {
  const u = new URL(link);
  assert.equal(u.origin, base, "emailed link points at Latch");
  assert.equal(u.pathname, "/v1/magic_links/redirect");
  assert.equal(u.searchParams.get("project_id"), main.project_id);
  assert.equal(u.searchParams.get("token"), token);
}

function assertEmailFactor(f, { email_id, email }) {
  assert.equal(f.type, "magic_link");
  assert.equal(f.delivery_method, "email");
  assert.deepEqual(f.email_factor, { email_id, email_address: email });
  assert.ok(!Number.isNaN(Date.parse(f.last_authenticated_at)), `factor.last_authenticated_at: ${f.last_authenticated_at}`);
  // Optional in the SDK types; when present they must be timestamps.
  for (const k of ["created_at", "updated_at"]) {
    if (f[k] !== undefined) assert.ok(!Number.isNaN(Date.parse(f[k])), `factor.${k} is a timestamp: ${f[k]}`);
  }
}

describe("magicLinks.email.loginOrCreate → outbox → redirect → authenticate", () => {
  const { raw, normalised: email } = mixedCaseEmail("Signup");
  let sent;
  let msg;
  let first;

  before(async () => {
    sent = await c.magicLinks.email.loginOrCreate({ email: raw });
  });

  test("creates an active, unverified user", async () => {
    assert.equal(sent.status_code, 200);
    assertRequestId(sent);
    assert.equal(sent.user_created, true);
    assert.match(sent.user_id, ID.user);
    assert.match(sent.email_id, ID.email);
    const u = await c.users.get({ user_id: sent.user_id });
    assert.equal(u.status, "active");
    assert.deepEqual(u.emails, [{ email_id: sent.email_id, email, verified: false }]);
  });

  test("the dev outbox holds the signup email with the link and token", async () => {
    msg = await latestMessage(email);
    assert.match(msg.message_id, /^message-test-/);
    assert.equal(msg.channel, "email");
    assert.equal(msg.to, email);
    assert.equal(msg.subject, `Finish signing up for ${PROJECT_NAME}`);
    assert.equal(typeof msg.token, "string");
    assert.equal(msg.token.length, 44);
    assert.equal(msg.code, null);
    assertRedirectLink(msg.link, msg.token);
    assert.ok(msg.body_text.includes(msg.link), "text body contains the link");
    assert.ok(msg.body_html.includes(msg.link.replaceAll("&", "&amp;")) || msg.body_html.includes(msg.link), "html body contains the link");
    assert.ok(!Number.isNaN(Date.parse(msg.created_at)));
    assert.equal(typeof msg.status, "string");
  });

  test("the emailed link 302-redirects to the app with stytch_token_type and token", async () => {
    const res = await fetch(msg.link, { redirect: "manual" });
    assert.equal(res.status, 302);
    const loc = new URL(res.headers.get("location"));
    assert.equal(loc.origin + loc.pathname, DEFAULT_REDIRECT);
    assert.equal(loc.searchParams.get("stytch_token_type"), "magic_links");
    assert.equal(loc.searchParams.get("token"), msg.token);
    await res.arrayBuffer();
  });

  test("authenticate with session_duration_minutes 60 starts a session and verifies the email", async () => {
    const t0 = Date.now();
    first = await c.magicLinks.authenticate({ token: msg.token, session_duration_minutes: 60 });
    assert.equal(first.status_code, 200);
    assertRequestId(first);
    assert.equal(first.user_id, sent.user_id);
    assert.equal(first.method_id, sent.email_id);
    assert.equal(first.reset_sessions, false);
    assert.equal(typeof first.session_token, "string");
    assert.equal(first.session_token.length, 44);
    assert.equal(first.session_jwt.split(".").length, 3);

    const s = first.session;
    assert.match(s.session_id, ID.session);
    assert.equal(s.user_id, sent.user_id);
    assert.equal(s.authentication_factors.length, 1);
    assertEmailFactor(s.authentication_factors[0], { email_id: sent.email_id, email });
    isoWithin(s.started_at, t0 - 5000, Date.now() + 5000, "started_at");
    isoWithin(s.expires_at, t0 + 59 * 60_000, Date.now() + 61 * 60_000, "expires_at");
    assert.deepEqual(s.custom_claims ?? {}, {});

    assert.equal(first.user.user_id, sent.user_id);
    assert.equal(first.user.status, "active");
    assert.deepEqual(first.user.emails, [{ email_id: sent.email_id, email, verified: true }]);

    const { payload } = decodeJwt(first.session_jwt);
    assert.equal(payload.sub, sent.user_id);
    assert.equal(payload["https://stytch.com/session"].id, s.session_id);
  });

  test("the same token a second time → unable_to_auth_magic_link (401)", async () => {
    await expectStytchError(c.magicLinks.authenticate({ token: msg.token, session_duration_minutes: 60 }), {
      error_type: "unable_to_auth_magic_link",
      status_code: 401,
    });
  });

  test("loginOrCreate again for the same email → user_created false, login email", async () => {
    const again = await c.magicLinks.email.loginOrCreate({ email: raw });
    assert.equal(again.status_code, 200);
    assert.equal(again.user_created, false);
    assert.equal(again.user_id, sent.user_id);
    assert.equal(again.email_id, sent.email_id);
    const msgs = await waitForMessages(email, { count: 2 });
    assert.equal(msgs[0].subject, `Your login link for ${PROJECT_NAME}`);
    assert.notEqual(msgs[0].token, msg.token);
    assertRedirectLink(msgs[0].link, msgs[0].token);
  });
});

describe("magicLinks.authenticate errors and session-less authenticate", () => {
  test("bogus token → magic_link_not_found (404)", async () => {
    await expectStytchError(c.magicLinks.authenticate({ token: bogusToken() }), {
      error_type: "magic_link_not_found",
      status_code: 404,
    });
  });

  test("without session_duration_minutes no session is started", async () => {
    const email = uniqueEmail("nosession");
    const sent = await c.magicLinks.email.loginOrCreate({ email });
    const msg = await latestMessage(email);
    const res = await c.magicLinks.authenticate({ token: msg.token });
    assert.equal(res.status_code, 200);
    assert.equal(res.user_id, sent.user_id);
    assert.equal(res.method_id, sent.email_id);
    assert.equal(res.session, null);
    assert.equal(res.session_token, "");
    assert.equal(res.session_jwt, "");
    assert.equal(res.user.emails[0].verified, true);
    const list = await c.sessions.get({ user_id: sent.user_id });
    assert.deepEqual(list.sessions, []);
  });

  test("invalid email → invalid_email", async () => {
    await expectStytchError(c.magicLinks.email.loginOrCreate({ email: "nope@" }), {
      error_type: "invalid_email",
      status_code: 400,
    });
  });
});

describe("loginOrCreate options", () => {
  test("create_user_as_pending: pending until the link is authenticated; attributes recorded on the session", async () => {
    const email = uniqueEmail("locpending");
    const sent = await c.magicLinks.email.loginOrCreate({ email, create_user_as_pending: true });
    assert.equal(sent.user_created, true);
    assert.equal((await c.users.get({ user_id: sent.user_id })).status, "pending");
    const msg = await latestMessage(email);
    const attributes = { ip_address: "203.0.113.5", user_agent: "sdktest/1.0" };
    const auth = await c.magicLinks.authenticate({ token: msg.token, session_duration_minutes: 5, attributes });
    assert.equal(auth.user.status, "active");
    assert.equal((await c.users.get({ user_id: sent.user_id })).status, "active");
    assert.deepEqual(auth.session.attributes, attributes);
    assert.deepEqual(decodeJwt(auth.session_jwt).payload["https://stytch.com/session"].attributes, attributes);
  });
});

describe("loginOrCreate for a pending user", () => {
  test("sends the signup link and leaves user_created false", async () => {
    const email = uniqueEmail("pendexisting");
    const created = await c.users.create({ email, create_user_as_pending: true });
    const res = await c.magicLinks.email.loginOrCreate({ email });
    assert.equal(res.user_created, false);
    assert.equal(res.user_id, created.user_id);
    const msg = await latestMessage(email);
    assert.equal(msg.subject, `Finish signing up for ${PROJECT_NAME}`);
    const auth = await c.magicLinks.authenticate({ token: msg.token });
    assert.equal(auth.user.status, "active");
  });
});

describe("options.ip_match_required", () => {
  test("the authenticate attributes must match those of the send", async () => {
    const email = uniqueEmail("ipmatch");
    await c.magicLinks.email.loginOrCreate({ email, attributes: { ip_address: "198.51.100.7", user_agent: "ua/1" } });
    const msg = await latestMessage(email);
    await expectStytchError(
      c.magicLinks.authenticate({
        token: msg.token,
        attributes: { ip_address: "198.51.100.8", user_agent: "ua/1" },
        options: { ip_match_required: true, user_agent_match_required: false },
      }),
      { error_type: /mismatch/, status_code: 401 },
    );
    const ok = await c.magicLinks.authenticate({
      token: msg.token,
      attributes: { ip_address: "198.51.100.7", user_agent: "another" },
      options: { ip_match_required: true, user_agent_match_required: false },
    });
    assert.equal(ok.status_code, 200);
  });
});

describe("magicLinks.email.send", () => {
  test("to an unknown email → email_not_found (404)", async () => {
    await expectStytchError(c.magicLinks.email.send({ email: uniqueEmail("unknown") }), {
      error_type: "email_not_found",
      status_code: 404,
    });
  });

  test("to an existing user sends a login link that authenticates", async () => {
    const email = uniqueEmail("send");
    const created = await c.users.create({ email });
    const res = await c.magicLinks.email.send({ email: email.toUpperCase() });
    assert.equal(res.status_code, 200);
    assertRequestId(res);
    assert.equal(res.user_id, created.user_id);
    assert.equal(res.email_id, created.email_id);
    const msg = await latestMessage(email);
    assert.equal(msg.subject, `Your login link for ${PROJECT_NAME}`);
    const auth = await c.magicLinks.authenticate({ token: msg.token, session_duration_minutes: 10 });
    assert.equal(auth.user_id, created.user_id);
    assertEmailFactor(auth.session.authentication_factors[0], { email_id: created.email_id, email });
  });

  test("with user_id to a new address attaches the email to that user", async () => {
    const first = uniqueEmail("owner");
    const created = await c.users.create({ email: first });
    const second = uniqueEmail("added");
    const res = await c.magicLinks.email.send({ email: second, user_id: created.user_id });
    assert.equal(res.user_id, created.user_id);
    assert.match(res.email_id, ID.email);
    assert.notEqual(res.email_id, created.email_id);
    let u = await c.users.get({ user_id: created.user_id });
    assert.deepEqual(u.emails.map((e) => [e.email, e.verified]).sort(), [[first, false], [second, false]].sort());
    const msg = await latestMessage(second);
    const auth = await c.magicLinks.authenticate({ token: msg.token });
    assert.equal(auth.user_id, created.user_id);
    assert.equal(auth.method_id, res.email_id);
    u = await c.users.get({ user_id: created.user_id });
    assert.equal(u.emails.find((e) => e.email === second).verified, true);
    assert.equal(u.emails.find((e) => e.email === first).verified, false);
  });

  test("with user_id to an address another user owns → duplicate_email", async () => {
    const taken = uniqueEmail("taken");
    await c.users.create({ email: taken });
    const someone = await c.users.create({ email: uniqueEmail("someone") });
    await expectStytchError(c.magicLinks.email.send({ email: taken, user_id: someone.user_id }), {
      error_type: "duplicate_email",
      status_code: 400,
    });
  });

  test("explicit registered login_magic_link_url is accepted", async () => {
    const email = uniqueEmail("sendurl");
    await c.users.create({ email });
    const res = await c.magicLinks.email.send({ email, login_magic_link_url: DEFAULT_REDIRECT });
    assert.equal(res.status_code, 200);
    const msg = await latestMessage(email);
    const r = await fetch(msg.link, { redirect: "manual" });
    assert.equal(r.status, 302);
    assert.ok(r.headers.get("location").startsWith(DEFAULT_REDIRECT + "?"));
    await r.arrayBuffer();
  });
});

describe("redirect URL allow-list", () => {
  const evil = "https://evil.example/cb";

  test("loginOrCreate with an unregistered login_magic_link_url → no_match_for_provided_magic_link_url", async () => {
    const email = uniqueEmail("evil");
    await c.users.create({ email });
    await expectStytchError(c.magicLinks.email.loginOrCreate({ email, login_magic_link_url: evil }), {
      error_type: "no_match_for_provided_magic_link_url",
      status_code: 400,
    });
  });

  test("loginOrCreate with an unregistered signup_magic_link_url → no_match_for_provided_magic_link_url", async () => {
    const email = uniqueEmail("evilsignup");
    await expectStytchError(c.magicLinks.email.loginOrCreate({ email, signup_magic_link_url: evil }), {
      error_type: "no_match_for_provided_magic_link_url",
      status_code: 400,
    });
  });

  test("send with an unregistered login_magic_link_url → no_match_for_provided_magic_link_url", async () => {
    const email = uniqueEmail("evilsend");
    await c.users.create({ email });
    await expectStytchError(c.magicLinks.email.send({ email, login_magic_link_url: evil }), {
      error_type: "no_match_for_provided_magic_link_url",
      status_code: 400,
    });
  });

  test("invite with an unregistered invite_magic_link_url → no_match_for_provided_magic_link_url", async () => {
    await expectStytchError(c.magicLinks.email.invite({ email: uniqueEmail("evilinvite"), invite_magic_link_url: evil }), {
      error_type: "no_match_for_provided_magic_link_url",
      status_code: 400,
    });
  });
});

describe("magicLinks.email.invite / revokeInvite", () => {
  test("invite creates a pending user; authenticating the invite activates it", async () => {
    const email = uniqueEmail("invitee");
    const res = await c.magicLinks.email.invite({
      email,
      name: { first_name: "In", last_name: "Vitee" },
      trusted_metadata: { invited_by: "sdktest" },
      untrusted_metadata: { source: "invite" },
    });
    assert.equal(res.status_code, 200);
    assertRequestId(res);
    assert.match(res.user_id, ID.user);
    assert.match(res.email_id, ID.email);

    const u = await c.users.get({ user_id: res.user_id });
    assert.equal(u.status, "pending");
    assert.deepEqual(u.emails, [{ email_id: res.email_id, email, verified: false }]);
    assert.equal(u.name.first_name, "In");
    assert.equal(u.name.last_name, "Vitee");
    assert.deepEqual(u.trusted_metadata, { invited_by: "sdktest" });
    assert.deepEqual(u.untrusted_metadata, { source: "invite" });

    const msg = await latestMessage(email);
    assert.equal(msg.subject, `You're invited to ${PROJECT_NAME}`);
    assertRedirectLink(msg.link, msg.token);
    const r = await fetch(msg.link, { redirect: "manual" });
    assert.equal(r.status, 302);
    const loc = new URL(r.headers.get("location"));
    assert.equal(loc.origin + loc.pathname, DEFAULT_REDIRECT);
    assert.equal(loc.searchParams.get("stytch_token_type"), "magic_links");
    await r.arrayBuffer();

    const auth = await c.magicLinks.authenticate({ token: msg.token, session_duration_minutes: 30 });
    assert.equal(auth.user_id, res.user_id);
    assert.equal(auth.user.status, "active");
    assert.equal(auth.user.emails[0].verified, true);
    assertEmailFactor(auth.session.authentication_factors[0], { email_id: res.email_id, email });
  });

  test("revokeInvite: the invite token no longer authenticates", async () => {
    const email = uniqueEmail("revoked");
    await c.magicLinks.email.invite({ email });
    const msg = await latestMessage(email);
    const res = await c.magicLinks.email.revokeInvite({ email });
    assert.equal(res.status_code, 200);
    assertRequestId(res);
    await expectStytchError(c.magicLinks.authenticate({ token: msg.token }), {
      error_type: "magic_link_not_found",
      status_code: 404,
    });
  });
});

describe("magicLinks.create (embeddable)", () => {
  test("creates a token for a user that authenticates without email", async () => {
    const email = uniqueEmail("embed");
    const created = await c.users.create({ email });
    const res = await c.magicLinks.create({ user_id: created.user_id });
    assert.equal(res.status_code, 200);
    assertRequestId(res);
    assert.equal(res.user_id, created.user_id);
    assert.equal(typeof res.token, "string");
    assert.equal(res.token.length, 44);

    const auth = await c.magicLinks.authenticate({ token: res.token, session_duration_minutes: 15 });
    assert.equal(auth.user_id, created.user_id);
    assert.match(auth.session.session_id, ID.session);
    const f = auth.session.authentication_factors[0];
    assert.equal(f.type, "magic_link");
    assert.equal(f.delivery_method, "embedded");
    assert.equal(typeof f.embeddable_magic_link_factor?.embedded_id, "string");

    await expectStytchError(c.magicLinks.authenticate({ token: res.token }), {
      error_type: "unable_to_auth_magic_link",
      status_code: 401,
    });
  });

  test("for an unknown user → user_not_found", async () => {
    await expectStytchError(c.magicLinks.create({ user_id: "user-test-00000000-0000-4000-8000-000000000000" }), {
      error_type: "user_not_found",
      status_code: 404,
    });
  });
});

describe("PKCE", () => {
  test("code_challenge requires the matching code_verifier", async () => {
    const email = uniqueEmail("pkce");
    const verifier = crypto.randomBytes(32).toString("base64url");
    const sent = await c.magicLinks.email.loginOrCreate({ email, code_challenge: pkceChallenge(verifier) });
    const msg = await latestMessage(email);

    await expectStytchError(c.magicLinks.authenticate({ token: msg.token, session_duration_minutes: 5 }), {
      error_type: "pkce_expected_code_verifier",
      status_code: 400,
    });
    await expectStytchError(
      c.magicLinks.authenticate({
        token: msg.token,
        session_duration_minutes: 5,
        code_verifier: crypto.randomBytes(32).toString("base64url"),
      }),
      { error_type: "pkce_mismatch", status_code: 400 },
    );
    const ok = await c.magicLinks.authenticate({ token: msg.token, session_duration_minutes: 5, code_verifier: verifier });
    assert.equal(ok.status_code, 200);
    assert.equal(ok.user_id, sent.user_id);
    assert.match(ok.session.session_id, ID.session);
  });
});

describe("adding a factor to an existing session", () => {
  test("authenticate with session_token / session_jwt keeps the session and accumulates factors", async () => {
    const email = uniqueEmail("factors");
    const first = await signIn(c, email);
    const sid = first.session.session_id;
    const emailFactor = first.session.authentication_factors[0];
    assert.equal(first.session.authentication_factors.length, 1);

    // A second, different factor (embedded magic link) joins the same session.
    const { token } = await c.magicLinks.create({ user_id: first.user_id });
    const second = await c.magicLinks.authenticate({ token, session_token: first.session_token, session_duration_minutes: 60 });
    assert.equal(second.session.session_id, sid, "same session");
    assert.equal(second.session_token, first.session_token, "same session token");
    const types = second.session.authentication_factors.map((f) => `${f.type}/${f.delivery_method}`).sort();
    assert.deepEqual(types, ["magic_link/email", "magic_link/embedded"]);

    // The email factor again, this time via session_jwt: refreshed, not duplicated.
    await c.magicLinks.email.send({ email });
    const msg = await latestMessage(email);
    const third = await c.magicLinks.authenticate({ token: msg.token, session_jwt: second.session_jwt, session_duration_minutes: 60 });
    assert.equal(third.session.session_id, sid);
    assert.equal(third.session.authentication_factors.length, 2);
    const refreshed = third.session.authentication_factors.find((f) => f.delivery_method === "email");
    assertEmailFactor(refreshed, { email_id: emailFactor.email_factor.email_id, email });
    assert.ok(
      Date.parse(refreshed.last_authenticated_at) >= Date.parse(emailFactor.last_authenticated_at),
      "email factor's last_authenticated_at refreshed",
    );

    const { payload } = decodeJwt(third.session_jwt);
    assert.equal(payload["https://stytch.com/session"].authentication_factors.length, 2);

    const listed = await c.sessions.get({ user_id: first.user_id });
    assert.equal(listed.sessions.length, 1);
    assert.equal(listed.sessions[0].session_id, sid);
  });
});

describe("locale", () => {
  test("a Spanish signup email, a French invite; SMS-only locales are refused; telemetry_id is accepted", async () => {
    const email = uniqueEmail("es");
    const sent = await c.magicLinks.email.loginOrCreate({ email, locale: "es" });
    const msg = await latestMessage(email);
    assert.equal(msg.subject, `Termina de registrarte en ${PROJECT_NAME}`);
    assert.ok(msg.body_text.includes("El enlace caduca en 7 días."), msg.body_text);
    assert.ok(msg.body_html.includes('<html lang="es">'));
    const res = await c.magicLinks.authenticate({ token: msg.token, telemetry_id: "026ac93b-8cdf-4b82-9d3d-b5ab3ff4bf9b" });
    assert.equal(res.user_id, sent.user_id);

    const invited = uniqueEmail("fr");
    await c.magicLinks.email.invite({ email: invited, locale: "fr" });
    assert.equal((await latestMessage(invited)).subject, `Vous êtes invité à rejoindre ${PROJECT_NAME}`);

    for (const locale of ["ja", "de-DE"]) {
      await expectStytchError(c.magicLinks.email.loginOrCreate({ email: uniqueEmail("loc"), locale }), { status_code: 400, error_type: "invalid_locale" });
    }
  });
});
