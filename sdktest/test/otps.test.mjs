// otps.*: SMS, WhatsApp and email send / loginOrCreate and authenticate,
// codes read from the dev outbox; the attempt cap; adding a factor.

import assert from "node:assert/strict";
import crypto from "node:crypto";
import { describe, test } from "node:test";
import { client, expectStytchError, assertRequestId, latestMessage, uniqueEmail, signIn, decodeJwt, ID } from "../lib/helpers.mjs";

const c = client();

// A fresh valid US number per call (555-01xx is reserved for fiction; use
// random 4155550000-4155559999 via the 415-555 exchange).
function uniquePhone() {
  const n = crypto.randomInt(0, 10000).toString().padStart(4, "0");
  return `+1415555${n}`;
}

async function code(to) {
  const m = await latestMessage(to);
  assert.match(m.code, /^\d{6}$/, "the outbox exposes a 6-digit code");
  return m;
}

describe("otps.sms", () => {
  test("loginOrCreate → outbox code → authenticate with a session", async () => {
    const phone = uniquePhone();
    const sent = await c.otps.sms.loginOrCreate({ phone_number: phone });
    assertRequestId(sent);
    assert.match(sent.user_id, ID.user);
    assert.match(sent.phone_id, ID.phone);
    assert.equal(sent.user_created, true);
    const m = await code(phone);
    assert.equal(m.channel, "sms");
    assert.equal(m.to, phone);
    assert.ok(m.body_text.includes(m.code));

    const res = await c.otps.authenticate({ method_id: sent.phone_id, code: m.code, session_duration_minutes: 30 });
    assert.equal(res.user_id, sent.user_id);
    assert.equal(res.method_id, sent.phone_id);
    assert.match(res.session.session_id, ID.session);
    const f = res.session.authentication_factors[0];
    assert.equal(f.type, "otp");
    assert.equal(f.delivery_method, "sms");
    assert.deepEqual(f.phone_number_factor, { phone_id: sent.phone_id, phone_number: phone });
    assert.equal(res.user.phone_numbers[0].verified, true);
    assert.equal(decodeJwt(res.session_jwt).payload["https://stytch.com/session"].authentication_factors[0].type, "otp");

    await expectStytchError(c.otps.authenticate({ method_id: sent.phone_id, code: m.code }), { status_code: 401, error_type: "unable_to_auth_otp_code" });

    const again = await c.otps.sms.loginOrCreate({ phone_number: phone });
    assert.equal(again.user_created, false);
    assert.equal(again.user_id, sent.user_id);
  });

  test("send needs a known number; a wrong code counts; the code dies after the cap", async () => {
    await expectStytchError(c.otps.sms.send({ phone_number: uniquePhone() }), { status_code: 404, error_type: "phone_number_not_found" });
    await expectStytchError(c.otps.sms.send({ phone_number: "415-555-0100" }), { status_code: 400, error_type: "invalid_phone_number" });
    const phone = uniquePhone();
    const sent = await c.otps.sms.loginOrCreate({ phone_number: phone });
    const { code: right } = await code(phone);
    const wrong = right === "000000" ? "111111" : "000000";
    for (let i = 0; i < 5; i++) {
      await expectStytchError(c.otps.authenticate({ method_id: sent.phone_id, code: wrong }), { status_code: 404, error_type: "otp_code_not_found" });
    }
    await expectStytchError(c.otps.authenticate({ method_id: sent.phone_id, code: right }), { status_code: 401, error_type: "unable_to_auth_otp_code" });
  });
});

describe("otps.whatsapp and otps.email", () => {
  test("whatsapp loginOrCreate and send", async () => {
    const phone = uniquePhone();
    const sent = await c.otps.whatsapp.loginOrCreate({ phone_number: phone, create_user_as_pending: true });
    assert.equal(sent.user_created, true);
    const user = await c.users.get({ user_id: sent.user_id });
    assert.equal(user.status, "pending");
    const resend = await c.otps.whatsapp.send({ phone_number: phone });
    assert.equal(resend.phone_id, sent.phone_id);
    const m = await code(phone);
    assert.equal(m.channel, "whatsapp");
    const res = await c.otps.authenticate({ method_id: sent.phone_id, code: m.code });
    assert.equal(res.session, null);
    assert.equal(res.session_token, "");
    assert.equal(res.user.status, "active");
    assert.equal(res.user.phone_numbers[0].verified, true);
  });

  test("email loginOrCreate and authenticate", async () => {
    const email = uniqueEmail("otp");
    const sent = await c.otps.email.loginOrCreate({ email, expiration_minutes: 5 });
    assert.match(sent.email_id, ID.email);
    const m = await code(email);
    assert.equal(m.channel, "email");
    assert.ok(m.subject.includes("verification code"));
    assert.ok(m.body_html.includes(m.code));
    const res = await c.otps.authenticate({ method_id: sent.email_id, code: m.code, session_duration_minutes: 10 });
    assert.deepEqual(res.session.authentication_factors[0].email_factor, { email_id: sent.email_id, email_address: email });
    await expectStytchError(c.otps.email.send({ email: uniqueEmail("nobody") }), { status_code: 404, error_type: "email_not_found" });
    await expectStytchError(c.otps.email.loginOrCreate({ email, expiration_minutes: 11 }), { status_code: 400, error_type: "invalid_expiration_otp" });
  });

  test("a magic-link session gains an SMS factor", async () => {
    const email = uniqueEmail("mfa");
    const first = await signIn(c, email);
    const phone = uniquePhone();
    const sent = await c.otps.sms.send({ phone_number: phone, session_token: first.session_token });
    assert.equal(sent.user_id, first.user_id);
    const m = await code(phone);
    const res = await c.otps.authenticate({ method_id: sent.phone_id, code: m.code, session_token: first.session_token });
    assert.equal(res.session.session_id, first.session.session_id);
    assert.deepEqual(res.session.authentication_factors.map((f) => `${f.type}/${f.delivery_method}`), ["magic_link/email", "otp/sms"]);
    const claim = decodeJwt(res.session_jwt).payload["https://stytch.com/session"];
    assert.equal(claim.authentication_factors.length, 2);
    const authed = await c.sessions.authenticate({ session_token: first.session_token });
    assert.equal(authed.session.authentication_factors.length, 2);
  });
});
