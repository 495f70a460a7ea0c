// Stytch's test-environment sandbox values through the official SDK.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { client, live, expectStytchError, outbox, ID } from "../lib/helpers.mjs";

const c = client();
const SANDBOX_USER = "user-test-e3795c81-f849-4167-bfda-e4a6e9c280fd";
const SESSION = "WJtR5BCy38Szd5AfoDpf0iqFKEt4EE5JhjlWUY7l3FtY";

describe("sandbox values (test environment)", () => {
  test("magic links: send nothing, fixed tokens succeed or fail as documented", async () => {
    const sent = await c.magicLinks.email.loginOrCreate({ email: "sandbox@stytch.com" });
    assert.equal(sent.user_id, SANDBOX_USER);
    assert.equal((await outbox("sandbox@stytch.com")).messages.length, 0);
    const ok = await c.magicLinks.authenticate({ token: "DOYoip3rvIMMW5lgItikFK-Ak1CfMsgjuiCyI7uuU94=", session_duration_minutes: 60 });
    assert.equal(ok.user_id, SANDBOX_USER);
    assert.equal(ok.session_token, SESSION);
    assert.equal(ok.session.authentication_factors[0].email_factor.email_address, "sandbox@stytch.com");
    await expectStytchError(c.magicLinks.authenticate({ token: "3pzjQpgksDlGKWEwUq2Up--hCHC_0oamfLHyfspKDFU=" }), { status_code: 401, error_type: "unable_to_auth_magic_link" });
    await expectStytchError(c.magicLinks.authenticate({ token: "CprTtwhnRNiMBiUS2jSLcWYrfuO2POeBNdo5HhW6qTM=" }), { status_code: 404, error_type: "magic_link_not_found" });
  });

  test("the sandbox session authenticates and its JWT verifies locally", async () => {
    const res = await c.sessions.authenticate({ session_token: SESSION });
    assert.equal(res.session.user_id, SANDBOX_USER);
    assert.equal(res.session.started_at, "2021-08-28T00:41:58Z");
    const local = await c.sessions.authenticateJwtLocal({ session_jwt: res.session_jwt });
    assert.equal(local.user_id, SANDBOX_USER);
    await expectStytchError(c.sessions.authenticate({ session_token: "59cnLELtq5cFVS6uYK9f-pAWzBkhqZl8AvLhbhOvKNWw" }), { status_code: 404, error_type: "session_not_found" });
    await expectStytchError(c.sessions.get({ user_id: SANDBOX_USER }), { status_code: 404, error_type: "user_not_found" });
  });

  test("OTP: +10000000000 and sandbox@stytch.com take code 000000", async () => {
    const sms = await c.otps.sms.loginOrCreate({ phone_number: "+10000000000" });
    assert.match(sms.phone_id, ID.phone);
    const wa = await c.otps.whatsapp.send({ phone_number: "+10000000000" });
    assert.equal(wa.phone_id, sms.phone_id);
    const email = await c.otps.email.send({ email: "sandbox@stytch.com" });
    assert.match(email.email_id, ID.email);
    const res = await c.otps.authenticate({ method_id: sms.phone_id, code: "000000", session_duration_minutes: 5 });
    assert.equal(res.user_id, SANDBOX_USER);
    await expectStytchError(c.otps.authenticate({ method_id: email.email_id, code: "123456" }), { status_code: 404, error_type: "otp_code_not_found" });
  });

  test("live environments never honour sandbox values", async () => {
    const l = client(live);
    await expectStytchError(l.magicLinks.authenticate({ token: "DOYoip3rvIMMW5lgItikFK-Ak1CfMsgjuiCyI7uuU94=" }), { status_code: 404, error_type: "magic_link_not_found", request_id: ID.requestLive });
    await expectStytchError(l.otps.sms.send({ phone_number: "+10000000000" }), { status_code: 400, error_type: "invalid_phone_number", request_id: ID.requestLive });
  });
});
