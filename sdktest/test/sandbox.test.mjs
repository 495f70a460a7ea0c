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

  test("passwords: sandbox@stytch.com takes any password", async () => {
    const created = await c.passwords.create({ email: "sandbox@stytch.com", password: "a", session_duration_minutes: 60 });
    assert.equal(created.user_id, SANDBOX_USER);
    assert.equal(created.session_token, SESSION);
    const auth = await c.passwords.authenticate({ email: "sandbox@stytch.com", password: "not the same one" });
    assert.equal(auth.user_id, SANDBOX_USER);
    assert.equal((await outbox("sandbox@stytch.com")).messages.length, 0);
  });

  test("TOTP: the sandbox user takes 000000 and recovery code a1b2-c3d4-e5f6", async () => {
    const created = await c.totps.create({ user_id: SANDBOX_USER });
    assert.match(created.totp_id, /^totp-test-[0-9a-f-]{36}$/);
    assert.match(created.secret, /^[A-Z2-7]{32}$/);
    assert.match(created.qr_code, /^data:image\/png;base64,/);
    assert.equal(created.recovery_codes[0], "a1b2-c3d4-e5f6");
    const auth = await c.totps.authenticate({ user_id: SANDBOX_USER, totp_code: "000000", session_duration_minutes: 60 });
    assert.equal(auth.totp_id, created.totp_id);
    assert.equal(auth.session_token, SESSION);
    await expectStytchError(c.totps.authenticate({ user_id: SANDBOX_USER, totp_code: "111111" }), { status_code: 401, error_type: "unable_to_authenticate_totp" });
    const rec = await c.totps.recover({ user_id: SANDBOX_USER, recovery_code: "a1b2-c3d4-e5f6" });
    assert.equal(rec.user_id, SANDBOX_USER);
    const codes = await c.totps.recoveryCodes({ user_id: SANDBOX_USER });
    assert.deepEqual(codes.totps.map((t) => [t.totp_id, t.verified, t.recovery_codes[0]]), [[created.totp_id, true, "a1b2-c3d4-e5f6"]]);
  });

  test("live environments never honour sandbox values", async () => {
    const l = client(live);
    await expectStytchError(l.magicLinks.authenticate({ token: "DOYoip3rvIMMW5lgItikFK-Ak1CfMsgjuiCyI7uuU94=" }), { status_code: 404, error_type: "magic_link_not_found", request_id: ID.requestLive });
    await expectStytchError(l.otps.sms.send({ phone_number: "+10000000000" }), { status_code: 400, error_type: "invalid_phone_number", request_id: ID.requestLive });
    await expectStytchError(l.totps.authenticate({ user_id: SANDBOX_USER, totp_code: "000000" }), { status_code: 404, error_type: "user_not_found", request_id: ID.requestLive });
    await expectStytchError(l.passwords.authenticate({ email: "sandbox@stytch.com", password: "x" }), { status_code: 404, error_type: "email_not_found", request_id: ID.requestLive });
  });
});
