// Connected Apps: connectedApp.clients.* (create, get, update, search,
// delete, secrets rotation), idp.oauth.authorizeStart / authorize, the
// OAuth token endpoint apps call directly (POST /v1/public/{project_id}/
// oauth2/token), idp.introspectTokenNetwork / introspectTokenLocal,
// sessions.exchangeAccessToken, users.connectedApps and users.revoke.

import assert from "node:assert/strict";
import crypto from "node:crypto";
import { describe, test, before } from "node:test";
import {
  base,
  main,
  other,
  client,
  expectStytchError,
  assertRequestId,
  uniqueEmail,
  decodeJwt,
  pkceChallenge,
  signIn,
  ID,
} from "../lib/helpers.mjs";

const c = client();
const CLIENT_ID = /^connected-app-test-[0-9a-f-]{36}$/;
const REDIRECT = "https://app.example/oauth/callback";

/** POST to a public OAuth endpoint of a project with Node's fetch (the CA is trusted process-wide). */
async function oauthPost(endpoint, params, { project = main, json = false, basic } = {}) {
  const headers = { "Content-Type": json ? "application/json" : "application/x-www-form-urlencoded" };
  if (basic) headers.Authorization = "Basic " + Buffer.from(`${encodeURIComponent(basic[0])}:${encodeURIComponent(basic[1])}`).toString("base64");
  const res = await fetch(`${base}/v1/public/${project.project_id}/oauth2/${endpoint}`, {
    method: "POST",
    headers,
    body: json ? JSON.stringify(params) : new URLSearchParams(params).toString(),
  });
  return { status: res.status, headers: res.headers, body: await res.json() };
}

/** Asserts an OAuth-form error answer of the public endpoints. */
function assertOAuthError(res, status, error) {
  assert.equal(res.status, status, JSON.stringify(res.body));
  assert.equal(res.body.error, error, JSON.stringify(res.body));
  assert.equal(res.body.status_code, status);
  assert.ok(res.body.error_description.length > 0);
  assert.ok(res.body.error_uri.startsWith(`https://stytch.com/docs/api/errors/${status}`), res.body.error_uri);
  assert.match(res.body.request_id, ID.request);
}

function verifierPair() {
  const verifier = crypto.randomBytes(32).toString("base64url");
  return { verifier, challenge: pkceChallenge(verifier) };
}

/** Runs authorize for a signed-in user and returns the code. */
async function authorize(app, login, scopes, extra = {}) {
  const res = await c.idp.oauth.authorize({
    client_id: app.client_id,
    redirect_uri: REDIRECT,
    response_type: "code",
    scopes,
    session_token: login.session_token,
    consent_granted: true,
    ...extra,
  });
  assert.equal(res.status_code, 200);
  assert.ok(res.authorization_code, `authorize returned a code: ${JSON.stringify(res)}`);
  const url = new URL(res.redirect_uri);
  assert.equal(url.searchParams.get("code"), res.authorization_code);
  return res;
}

/** Redeems a code at the token endpoint and returns the token response body (asserting 200). */
async function redeem(app, code, extra = {}) {
  const res = await oauthPost("token", {
    grant_type: "authorization_code",
    client_id: app.client_id,
    client_secret: app.client_secret,
    code,
    redirect_uri: REDIRECT,
    ...extra,
  });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.equal(res.headers.get("cache-control"), "no-store");
  return res.body;
}

describe("connectedApp.clients", () => {
  test("create, get, update, search and delete a first-party client", async () => {
    const created = await c.connectedApp.clients.create({
      client_type: "first_party",
      client_name: "Acme CLI",
      client_description: "The command line",
      redirect_urls: [REDIRECT],
      full_access_allowed: true,
      access_token_expiry_minutes: 30,
      post_logout_redirect_urls: ["https://app.example/bye"],
      logo_url: "https://app.example/logo.png",
    });
    assert.equal(created.status_code, 200);
    assertRequestId(created);
    const app = created.connected_app;
    assert.match(app.client_id, CLIENT_ID);
    assert.equal(app.client_type, "first_party");
    assert.equal(app.client_name, "Acme CLI");
    assert.equal(app.client_description, "The command line");
    assert.equal(app.status, "active");
    assert.equal(app.full_access_allowed, true);
    assert.deepEqual(app.redirect_urls, [REDIRECT]);
    assert.deepEqual(app.post_logout_redirect_urls, ["https://app.example/bye"]);
    assert.equal(app.access_token_expiry_minutes, 30);
    assert.equal(app.logo_url, "https://app.example/logo.png");
    assert.equal(app.bypass_consent_for_offline_access, false);
    assert.equal(typeof app.client_secret, "string");
    assert.equal(app.client_secret.length, 44);
    assert.equal(app.client_secret_last_four, app.client_secret.slice(-4));

    const got = await c.connectedApp.clients.get({ client_id: app.client_id });
    assert.equal(got.connected_app.client_id, app.client_id);
    assert.equal(got.connected_app.client_name, "Acme CLI");
    assert.equal(got.connected_app.client_secret, undefined, "the secret is shown only once");
    assert.equal(got.connected_app.client_secret_last_four, app.client_secret_last_four);

    const upd = await c.connectedApp.clients.update({
      client_id: app.client_id,
      client_name: "Acme CLI v2",
      redirect_urls: [REDIRECT, "https://app.example/other"],
    });
    assert.equal(upd.connected_app.client_name, "Acme CLI v2");
    assert.equal(upd.connected_app.client_description, "The command line", "unnamed fields are unchanged");
    assert.deepEqual(upd.connected_app.redirect_urls, [REDIRECT, "https://app.example/other"]);
    assert.equal(upd.connected_app.full_access_allowed, true);

    // Search pages with cursor and limit.
    const more = [];
    for (let i = 0; i < 2; i++) more.push((await c.connectedApp.clients.create({ client_type: "third_party" })).connected_app.client_id);
    const seen = new Set();
    let cursor;
    let pages = 0;
    do {
      const page = await c.connectedApp.clients.search({ limit: 2, ...(cursor ? { cursor } : {}) });
      assert.equal(page.status_code, 200);
      assert.ok(page.connected_apps.length <= 2);
      assert.ok(page.results_metadata.total >= 3);
      for (const a of page.connected_apps) {
        assert.ok(!seen.has(a.client_id), "no client twice");
        assert.equal(a.client_secret, undefined);
        seen.add(a.client_id);
      }
      cursor = page.results_metadata.next_cursor;
      pages++;
    } while (cursor && pages < 100);
    for (const id of [app.client_id, ...more]) assert.ok(seen.has(id), `search found ${id}`);

    const del = await c.connectedApp.clients.delete({ client_id: app.client_id });
    assert.equal(del.client_id, app.client_id);
    await expectStytchError(c.connectedApp.clients.get({ client_id: app.client_id }), { error_type: "connected_app_not_found", status_code: 404 });
    await expectStytchError(c.connectedApp.clients.delete({ client_id: app.client_id }), { error_type: "connected_app_not_found", status_code: 404 });
  });

  test("another project cannot see, change or delete the client", async () => {
    const app = (await c.connectedApp.clients.create({ client_type: "first_party", redirect_urls: [REDIRECT] })).connected_app;
    const o = client(other);
    await expectStytchError(o.connectedApp.clients.get({ client_id: app.client_id }), { error_type: "connected_app_not_found", status_code: 404 });
    await expectStytchError(o.connectedApp.clients.update({ client_id: app.client_id, client_name: "mine" }), {
      error_type: "connected_app_not_found",
      status_code: 404,
    });
    await expectStytchError(o.connectedApp.clients.delete({ client_id: app.client_id }), { error_type: "connected_app_not_found", status_code: 404 });
    await expectStytchError(o.connectedApp.clients.secrets.rotateStart({ client_id: app.client_id }), {
      error_type: "connected_app_not_found",
      status_code: 404,
    });
    const page = await o.connectedApp.clients.search({ limit: 1000 });
    assert.ok(!page.connected_apps.some((a) => a.client_id === app.client_id));
    // Nor use its secret at its own token endpoint.
    const res = await oauthPost("token", { grant_type: "authorization_code", client_id: app.client_id, client_secret: app.client_secret, code: "x".repeat(44), redirect_uri: REDIRECT }, { project: other });
    assertOAuthError(res, 400, "invalid_client");
    assert.equal((await c.connectedApp.clients.get({ client_id: app.client_id })).connected_app.client_name, "", "unchanged by the other project");
  });

  test("client types: public clients have no secret; third-party clients cannot have full access", async () => {
    const pub = (await c.connectedApp.clients.create({ client_type: "third_party_public", redirect_urls: [REDIRECT] })).connected_app;
    assert.equal(pub.client_secret, undefined);
    assert.equal(pub.client_type, "third_party_public");
    await expectStytchError(c.connectedApp.clients.secrets.rotateStart({ client_id: pub.client_id }), {
      error_type: "public_connected_apps_do_not_have_secrets",
      status_code: 400,
    });
    await expectStytchError(c.connectedApp.clients.create({ client_type: "third_party", full_access_allowed: true }), {
      error_type: "third_party_clients_cannot_use_full_access",
      status_code: 400,
    });
    await expectStytchError(c.connectedApp.clients.create({ client_type: "confidential" }), { error_type: "invalid_connected_app_type", status_code: 400 });
    await expectStytchError(c.connectedApp.clients.create({ client_type: "first_party", redirect_urls: ["http://app.example/cb"] }), {
      error_type: "connected_app_redirect_url_http_scheme_must_use_loopback",
      status_code: 400,
    });
  });

  test("secrets: rotateStart, rotateCancel, rotate; the old secret is refused after rotate", async () => {
    const app = (await c.connectedApp.clients.create({ client_type: "first_party", redirect_urls: [REDIRECT] })).connected_app;
    const introspect = (secret) => oauthPost("introspect", { client_id: app.client_id, client_secret: secret, token: "not-a-token" });
    assert.equal((await introspect(app.client_secret)).status, 200);

    const start = await c.connectedApp.clients.secrets.rotateStart({ client_id: app.client_id });
    const next = start.connected_app.next_client_secret;
    assert.equal(next.length, 44);
    assert.equal(start.connected_app.next_client_secret_last_four, next.slice(-4));
    assert.equal(start.connected_app.client_secret_last_four, app.client_secret.slice(-4));
    await expectStytchError(c.connectedApp.clients.secrets.rotateStart({ client_id: app.client_id }), {
      error_type: "connected_app_already_rotating_secret",
      status_code: 400,
    });
    // During the rotation both secrets work.
    assert.equal((await introspect(app.client_secret)).status, 200);
    assert.equal((await introspect(next)).status, 200);

    const cancelled = await c.connectedApp.clients.secrets.rotateCancel({ client_id: app.client_id });
    assert.equal(cancelled.connected_app.next_client_secret_last_four, undefined);
    assertOAuthError(await introspect(next), 400, "invalid_client");
    assert.equal((await introspect(app.client_secret)).status, 200);

    const next2 = (await c.connectedApp.clients.secrets.rotateStart({ client_id: app.client_id })).connected_app.next_client_secret;
    const rotated = await c.connectedApp.clients.secrets.rotate({ client_id: app.client_id });
    assert.equal(rotated.connected_app.client_secret_last_four, next2.slice(-4));
    assertOAuthError(await introspect(app.client_secret), 400, "invalid_client");
    assert.equal((await introspect(next2)).status, 200);
    await expectStytchError(c.connectedApp.clients.secrets.rotate({ client_id: app.client_id }), {
      error_type: "connected_app_not_rotating_secret",
      status_code: 400,
    });
  });
});

describe("Connected Apps OAuth flow", () => {
  const email = uniqueEmail("ca");
  let login;
  let app;

  before(async () => {
    login = await signIn(c, email);
    app = (
      await c.connectedApp.clients.create({
        client_type: "first_party",
        client_name: "Acme Desktop",
        redirect_urls: [REDIRECT],
        full_access_allowed: true,
        bypass_consent_for_offline_access: true,
      })
    ).connected_app;
  });

  test("authorize → code → tokens → introspection → exchange for a session, once", async () => {
    const start = await c.idp.oauth.authorizeStart({
      client_id: app.client_id,
      redirect_uri: REDIRECT,
      response_type: "code",
      scopes: ["openid", "email", "offline_access", "full_access"],
      session_token: login.session_token,
    });
    assert.equal(start.status_code, 200);
    assert.equal(start.user_id, login.user_id);
    assert.equal(start.user.user_id, login.user_id);
    assert.equal(start.consent_required, false, "a first-party client that bypasses offline_access consent");
    assert.equal(start.client.client_id, app.client_id);
    assert.equal(start.client.client_name, "Acme Desktop");
    assert.equal(start.client.client_type, "first_party");
    assert.deepEqual(
      start.scope_results.map((s) => [s.scope, s.is_grantable, s.description.length > 0]),
      [["openid", true, true], ["email", true, true], ["offline_access", true, true], ["full_access", true, true]],
    );

    const { verifier, challenge } = verifierPair();
    const auth = await authorize(app, login, ["openid", "email", "offline_access", "full_access"], {
      state: "xyz/123",
      nonce: "n-0S6_WzA2Mj",
      code_challenge: challenge,
    });
    const url = new URL(auth.redirect_uri);
    assert.equal(url.origin + url.pathname, REDIRECT);
    assert.equal(url.searchParams.get("state"), "xyz/123");
    assert.equal(url.searchParams.get("iss"), `stytch.com/${main.project_id}`);
    assert.equal(auth.authorization_code.length, 44);

    const tok = await redeem(app, auth.authorization_code, { code_verifier: verifier });
    assert.equal(tok.token_type, "bearer");
    assert.equal(tok.expires_in, 3600);
    assert.equal(tok.scope, "openid email offline_access full_access");
    assert.equal(tok.refresh_token.length, 44);
    assert.equal(tok.status_code, 200);
    assert.match(tok.request_id, ID.request);

    const { header, payload } = decodeJwt(tok.access_token);
    assert.equal(header.alg, "RS256");
    assert.equal(header.typ, "JWT");
    assert.match(header.kid, /^jwk-test-/);
    assert.equal(payload.iss, `stytch.com/${main.project_id}`);
    assert.equal(payload.sub, login.user_id);
    assert.deepEqual(payload.aud, [main.project_id]);
    assert.equal(payload.client_id, app.client_id);
    assert.equal(payload.scope, "openid email offline_access full_access");
    assert.equal(payload.exp - payload.iat, 3600);
    assert.equal(payload.nbf, payload.iat);
    assert.equal(payload.jti.length, 44);
    const id = decodeJwt(tok.id_token).payload;
    assert.deepEqual(id.aud, [app.client_id]);
    assert.equal(id.sub, login.user_id);
    assert.equal(id.nonce, "n-0S6_WzA2Mj");
    assert.equal(id.email, email);
    assert.equal(id.email_verified, true);
    assert.equal(id.exp - id.iat, 3600);

    // The SDK's network introspection.
    const net = await c.idp.introspectTokenNetwork({ token: tok.access_token, client_id: app.client_id, client_secret: app.client_secret });
    assert.equal(net.subject, login.user_id);
    assert.equal(net.scope, "openid email offline_access full_access");
    assert.deepEqual(net.audience, [main.project_id]);
    assert.equal(net.issuer, `stytch.com/${main.project_id}`);
    assert.equal(net.token_type, "access_token");
    assert.equal(net.expires_at, payload.exp);
    assert.equal(net.issued_at, payload.iat);
    assert.deepEqual(net.custom_claims, {});
    // The refresh token introspects too.
    const rnet = await c.idp.introspectTokenNetwork({
      token: tok.refresh_token,
      client_id: app.client_id,
      client_secret: app.client_secret,
      token_type_hint: "refresh_token",
    });
    assert.equal(rnet.token_type, "refresh_token");
    assert.equal(rnet.subject, login.user_id);

    // The SDK's local introspection against Latch's JWKS.
    const local = await c.idp.introspectTokenLocal(tok.access_token);
    assert.equal(local.subject, login.user_id);
    assert.equal(local.scope, "openid email offline_access full_access");
    assert.equal(local.issuer, `stytch.com/${main.project_id}`);
    assert.equal(local.expires_at, payload.exp);
    assert.equal(local.token_type, "access_token");
    assert.deepEqual(local.custom_claims, { client_id: app.client_id });
    // Another project's SDK client refuses it locally (other keys, other audience).
    await assert.rejects(client(other).idp.introspectTokenLocal(tok.access_token), (e) => e.code === "jwt_invalid");

    // Exchange for a session.
    const ex = await c.sessions.exchangeAccessToken({ access_token: tok.access_token, session_duration_minutes: 60, session_custom_claims: { via: "ca" } });
    assert.equal(ex.status_code, 200);
    assertRequestId(ex);
    assert.equal(ex.user_id, login.user_id);
    assert.equal(ex.user.user_id, login.user_id);
    assert.equal(ex.session_token.length, 44);
    assert.equal(ex.session_jwt.split(".").length, 3);
    assert.match(ex.session.session_id, ID.session);
    assert.notEqual(ex.session.session_id, login.session.session_id, "a new session");
    assert.equal(ex.session.custom_claims.via, "ca");
    assert.deepEqual(
      ex.session.authentication_factors.map((f) => [f.type, f.delivery_method, f.oauth_access_token_exchange_factor?.client_id]),
      [["oauth", "oauth_access_token_exchange", app.client_id]],
    );
    const authd = await c.sessions.authenticate({ session_token: ex.session_token });
    assert.equal(authd.session.session_id, ex.session.session_id);
    assert.equal(authd.user.user_id, login.user_id);
    const byJwt = await c.sessions.authenticateJwtLocal({ session_jwt: ex.session_jwt });
    assert.equal(byJwt.session_id, ex.session.session_id);

    // Exchanged once only.
    await expectStytchError(c.sessions.exchangeAccessToken({ access_token: tok.access_token, session_duration_minutes: 60 }), {
      error_type: "idp_access_token_could_not_be_exchanged",
      status_code: 404,
    });

    // Refresh: a confidential client keeps its refresh token.
    const ref = await oauthPost("token", {
      grant_type: "refresh_token",
      client_id: app.client_id,
      client_secret: app.client_secret,
      refresh_token: tok.refresh_token,
    });
    assert.equal(ref.status, 200, JSON.stringify(ref.body));
    assert.equal(ref.body.refresh_token, undefined, "confidential clients keep their refresh token");
    assert.notEqual(ref.body.access_token, tok.access_token);
    assert.equal(decodeJwt(ref.body.access_token).payload.sub, login.user_id);
    // The refreshed token can be exchanged as well (it is fresh and new).
    const ex2 = await c.sessions.exchangeAccessToken({ access_token: ref.body.access_token, session_duration_minutes: 10 });
    assert.equal(ex2.user_id, login.user_id);
  });

  test("client auth by HTTP Basic and JSON bodies", async () => {
    const auth = await authorize(app, login, ["openid"]);
    const res = await oauthPost(
      "token",
      { grant_type: "authorization_code", code: auth.authorization_code, redirect_uri: REDIRECT },
      { json: true, basic: [app.client_id, app.client_secret] },
    );
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.scope, "openid");
    assert.ok(res.body.id_token);
    assert.equal(res.body.refresh_token, undefined, "no offline_access, no refresh token");
    const bad = await oauthPost("token", { grant_type: "authorization_code", code: "y".repeat(44), redirect_uri: REDIRECT }, { basic: [app.client_id, "wrong"] });
    assertOAuthError(bad, 401, "invalid_client");
  });

  test("a token without full_access cannot be exchanged", async () => {
    const auth = await authorize(app, login, ["openid", "email"]);
    const tok = await redeem(app, auth.authorization_code);
    await expectStytchError(c.sessions.exchangeAccessToken({ access_token: tok.access_token, session_duration_minutes: 60 }), {
      error_type: "oauth_access_token_exchange_missing_full_access",
      status_code: 400,
    });
    await expectStytchError(c.sessions.exchangeAccessToken({ access_token: "not-a-token", session_duration_minutes: 60 }), {
      error_type: "oauth_access_token_exchange_token_invalid_grant",
      status_code: 400,
    });
  });

  test("a third-party client cannot get full_access", async () => {
    const tp = (await c.connectedApp.clients.create({ client_type: "third_party", redirect_urls: [REDIRECT] })).connected_app;
    const req = { client_id: tp.client_id, redirect_uri: REDIRECT, response_type: "code", scopes: ["openid", "full_access"], session_token: login.session_token };
    await expectStytchError(c.idp.oauth.authorizeStart(req), { error_type: "third_party_clients_cannot_use_full_access", status_code: 400 });
    await expectStytchError(c.idp.oauth.authorize({ ...req, consent_granted: true }), {
      error_type: "third_party_clients_cannot_use_full_access",
      status_code: 400,
    });
    // Without full_access it works, and a third-party client asks for consent.
    const start = await c.idp.oauth.authorizeStart({ ...req, scopes: ["openid"] });
    assert.equal(start.consent_required, true);
    // Declining consent: an access_denied redirect and no code.
    const denied = await c.idp.oauth.authorize({ ...req, scopes: ["openid"], consent_granted: false, state: "s" });
    assert.equal(denied.authorization_code, undefined);
    const u = new URL(denied.redirect_uri);
    assert.equal(u.searchParams.get("error"), "access_denied");
    assert.equal(u.searchParams.get("state"), "s");
  });

  test("wrong client secret, redirect_uri, code_verifier and a reused code fail with their error types", async () => {
    const { verifier, challenge } = verifierPair();
    const auth = await authorize(app, login, ["openid"], { code_challenge: challenge });
    const code = auth.authorization_code;
    const params = { grant_type: "authorization_code", client_id: app.client_id, client_secret: app.client_secret, code, redirect_uri: REDIRECT, code_verifier: verifier };

    assertOAuthError(await oauthPost("token", { ...params, client_secret: "x".repeat(44) }), 400, "invalid_client");
    assertOAuthError(await oauthPost("token", { ...params, redirect_uri: "https://app.example/other" }), 400, "invalid_grant");
    assertOAuthError(await oauthPost("token", { ...params, code_verifier: crypto.randomBytes(32).toString("base64url") }), 400, "invalid_grant");
    assertOAuthError(await oauthPost("token", { ...params, grant_type: "password" }), 400, "unsupported_grant_type");
    // An unregistered redirect_uri is refused at authorize already.
    await expectStytchError(
      c.idp.oauth.authorize({ client_id: app.client_id, redirect_uri: "https://evil.example/cb", response_type: "code", scopes: ["openid"], session_token: login.session_token, consent_granted: true }),
      { error_type: "connected_app_supplied_redirect_url_not_found_in_client", status_code: 401 },
    );
    // The failures did not spend the code; the right request works once.
    const ok = await oauthPost("token", params);
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    const reused = await oauthPost("token", params);
    assertOAuthError(reused, 400, "invalid_grant");
    // Reusing the code revoked what it issued.
    await assert.rejects(
      c.idp.introspectTokenNetwork({ token: ok.body.access_token, client_id: app.client_id, client_secret: app.client_secret }),
      (e) => e.code === "token_invalid",
    );
  });

  test("users.connectedApps lists the grant and users.revoke ends it", async () => {
    const revEmail = uniqueEmail("carev");
    const who = await signIn(c, revEmail);
    const auth = await authorize(app, who, ["openid", "offline_access", "full_access"]);
    const tok = await redeem(app, auth.authorization_code);

    const list = await c.users.connectedApps({ user_id: who.user_id });
    assert.equal(list.status_code, 200);
    assert.deepEqual(
      list.connected_apps.map((a) => [a.connected_app_id, a.name, a.client_type, a.scopes_granted]),
      [[app.client_id, "Acme Desktop", "first_party", "openid offline_access full_access"]],
    );
    await expectStytchError(client(other).users.connectedApps({ user_id: who.user_id }), { error_type: "user_not_found", status_code: 404 });

    const rev = await c.users.revoke({ user_id: who.user_id, connected_app_id: app.client_id });
    assert.equal(rev.status_code, 200);
    assert.deepEqual((await c.users.connectedApps({ user_id: who.user_id })).connected_apps, []);
    await assert.rejects(
      c.idp.introspectTokenNetwork({ token: tok.access_token, client_id: app.client_id, client_secret: app.client_secret }),
      (e) => e.code === "token_invalid",
    );
    await expectStytchError(c.sessions.exchangeAccessToken({ access_token: tok.access_token, session_duration_minutes: 60 }), {
      error_type: "connected_app_consent_revoked",
      status_code: 401,
    });
    assertOAuthError(
      await oauthPost("token", { grant_type: "refresh_token", client_id: app.client_id, client_secret: app.client_secret, refresh_token: tok.refresh_token }),
      400,
      "invalid_grant",
    );
  });

  test("a public client must use PKCE and gets rotating refresh tokens", async () => {
    const pub = (
      await c.connectedApp.clients.create({ client_type: "first_party_public", redirect_urls: [REDIRECT], bypass_consent_for_offline_access: true })
    ).connected_app;
    await expectStytchError(
      c.idp.oauth.authorize({ client_id: pub.client_id, redirect_uri: REDIRECT, response_type: "code", scopes: ["openid", "offline_access"], session_token: login.session_token, consent_granted: true }),
      { error_type: "pkce_required_for_idp_authorization_flow", status_code: 400 },
    );
    const { verifier, challenge } = verifierPair();
    const auth = await authorize(pub, login, ["openid", "offline_access"], { code_challenge: challenge });
    const tok = await oauthPost("token", { grant_type: "authorization_code", client_id: pub.client_id, code: auth.authorization_code, redirect_uri: REDIRECT, code_verifier: verifier });
    assert.equal(tok.status, 200, JSON.stringify(tok.body));
    const r1 = await oauthPost("token", { grant_type: "refresh_token", client_id: pub.client_id, refresh_token: tok.body.refresh_token });
    assert.equal(r1.status, 200, JSON.stringify(r1.body));
    assert.ok(r1.body.refresh_token && r1.body.refresh_token !== tok.body.refresh_token, "rotated");
    assertOAuthError(await oauthPost("token", { grant_type: "refresh_token", client_id: pub.client_id, refresh_token: tok.body.refresh_token }), 400, "invalid_grant");
  });
});
