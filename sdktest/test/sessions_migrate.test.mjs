// sessions.migrate: an operator points the project at an external IdP's
// OIDC UserInfo endpoint with `latch projects update`, while the server
// runs; the SDK then trades that IdP's session token for a Latch session.

import assert from "node:assert/strict";
import http from "node:http";
import { once } from "node:events";
import { describe, test, before, after } from "node:test";
import { main, client, expectStytchError, assertRequestId, uniqueEmail, latchCLI, ID } from "../lib/helpers.mjs";

const c = client();

describe("sessions.migrate", () => {
  const email = uniqueEmail("migrate");
  let idp;
  let userID;
  const seen = [];

  before(async () => {
    // The external IdP: one token it knows, everything else refused.
    idp = http.createServer((req, res) => {
      seen.push(req.headers.authorization);
      if (req.headers.authorization === "Bearer legacy-session-ada") {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ sub: "legacy|42", email: email.toUpperCase(), email_verified: true }));
      } else {
        res.writeHead(401, { "content-type": "application/json" });
        res.end('{"error":"invalid_token"}');
      }
    });
    idp.listen(0, "127.0.0.1");
    await once(idp, "listening");
    const created = await c.users.create({ email });
    userID = created.user_id;
  });

  after(() => idp.close());

  test("before the UserInfo URL is set, the error says so", async () => {
    await expectStytchError(c.sessions.migrate({ session_token: "legacy-session-ada", session_duration_minutes: 60 }), {
      error_type: "session_migration_not_configured",
      status_code: 400,
    });
  });

  test("after `latch projects update`, the IdP's token becomes a Latch session", async () => {
    const url = `http://127.0.0.1:${idp.address().port}/userinfo`;
    const out = JSON.parse(await latchCLI("projects", "update", "--project", main.project_id, "--session-migration-url", url));
    assert.equal(out.session_migration_userinfo_url, url);

    const res = await c.sessions.migrate({
      session_token: "legacy-session-ada",
      session_duration_minutes: 60,
      session_custom_claims: { legacy_id: "legacy|42" },
    });
    assert.equal(res.status_code, 200);
    assertRequestId(res);
    assert.equal(seen.at(-1), "Bearer legacy-session-ada", "Latch sends the token as an OIDC Bearer credential");
    assert.equal(res.user_id, userID);
    assert.equal(res.user.emails[0].email, email);
    assert.equal(res.user.status, "active");
    assert.match(res.session.session_id, ID.session);
    assert.equal(res.session.custom_claims.legacy_id, "legacy|42");
    const [factor] = res.session.authentication_factors;
    assert.equal(factor.type, "imported");
    assert.equal(factor.delivery_method, "imported_auth0");
    assert.equal(factor.email_factor.email_address, email);

    // It is an ordinary Latch session: the SDK authenticates it, locally too.
    const auth = await c.sessions.authenticate({ session_token: res.session_token });
    assert.equal(auth.session.session_id, res.session.session_id);
    const local = await c.sessions.authenticateJwt({ session_jwt: res.session_jwt });
    assert.equal(local.session.user_id, userID);
  });

  test("a token the IdP refuses is refused", async () => {
    await expectStytchError(c.sessions.migrate({ session_token: "forged", session_duration_minutes: 60 }), {
      error_type: "external_session_rejected",
      status_code: 401,
    });
  });
});
