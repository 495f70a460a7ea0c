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

const PROJECT_NAME = "Latch development project";

describe("otps: sessions, attributes, locales and email send", () => {
  test("authenticate with session_jwt and session_custom_claims: factors accumulate, claims reach the JWT", async () => {
    const first = await signIn(c, uniqueEmail("jwtmfa"));
    const phone = uniquePhone();
    const sent = await c.otps.sms.send({ phone_number: phone, session_jwt: first.session_jwt });
    assert.equal(sent.user_id, first.user_id);
    const m = await code(phone);
    const res = await c.otps.authenticate({
      method_id: sent.phone_id,
      code: m.code,
      session_jwt: first.session_jwt,
      session_custom_claims: { plan: "pro", seats: 3 },
      telemetry_id: "026ac93b-8cdf-4b82-9d3d-b5ab3ff4bf9b", // accepted, ignored: Latch has no fraud service
    });
    assert.equal(res.session.session_id, first.session.session_id);
    assert.deepEqual(res.session.authentication_factors.map((f) => `${f.type}/${f.delivery_method}`), ["magic_link/email", "otp/sms"]);
    assert.deepEqual(res.session.authentication_factors[1].phone_number_factor, { phone_id: sent.phone_id, phone_number: phone });
    assert.deepEqual(res.session.custom_claims, { plan: "pro", seats: 3 });
    const { payload } = decodeJwt(res.session_jwt);
    assert.equal(payload.plan, "pro");
    assert.equal(payload.seats, 3);
    assert.deepEqual(payload["https://stytch.com/session"].authentication_factors.map((f) => f.type), ["magic_link", "otp"]);
    const local = await c.sessions.authenticateJwt({ session_jwt: res.session_jwt });
    assert.equal(local.session.custom_claims.plan, "pro");
  });

  test("options.ip_match_required compares with the send's attributes", async () => {
    const email = uniqueEmail("otpip");
    const attributes = { ip_address: "203.0.113.7", user_agent: "Mozilla/5.0 (sdktest)" };
    const sent = await c.otps.email.loginOrCreate({ email, attributes });
    const m = await code(email);
    await expectStytchError(
      c.otps.authenticate({ method_id: sent.email_id, code: m.code, attributes: { ...attributes, ip_address: "198.51.100.1" }, options: { ip_match_required: true } }),
      { status_code: 401, error_type: "attribute_mismatch" },
    );
    // The mismatch did not spend the code; the matching IP passes, and the
    // attributes are recorded on the session.
    const res = await c.otps.authenticate({ method_id: sent.email_id, code: m.code, attributes, options: { ip_match_required: true }, session_duration_minutes: 10 });
    assert.equal(res.method_id, sent.email_id);
    assert.equal(res.session.attributes.ip_address, "203.0.113.7");
    assert.equal(res.session.attributes.user_agent, "Mozilla/5.0 (sdktest)");
  });

  test("locale: an SMS in Spanish, a Japanese WhatsApp, and email refuses an SMS-only locale", async () => {
    const phone = uniquePhone();
    await c.otps.sms.loginOrCreate({ phone_number: phone, locale: "es" });
    const es = await code(phone);
    assert.equal(es.body_text, `Tu código de verificación de ${PROJECT_NAME} es ${es.code}. Caduca en 2 minutos.`);

    const wa = uniquePhone();
    await c.otps.whatsapp.loginOrCreate({ phone_number: wa, locale: "ja", expiration_minutes: 5 });
    const ja = await code(wa);
    assert.equal(ja.body_text, `${PROJECT_NAME}の認証コードは${ja.code}です。有効期限は5分です。`);

    await expectStytchError(c.otps.email.loginOrCreate({ email: uniqueEmail("ja"), locale: "ja" }), { status_code: 400, error_type: "invalid_locale" });
    await expectStytchError(c.otps.sms.loginOrCreate({ phone_number: uniquePhone(), locale: "xx" }), { status_code: 400, error_type: "invalid_locale" });
  });

  test("email.send to an existing user's address → outbox code → authenticate", async () => {
    const email = uniqueEmail("otpsend");
    const created = await c.users.create({ email });
    const sent = await c.otps.email.send({ email, locale: "fr" });
    assertRequestId(sent);
    assert.equal(sent.user_id, created.user_id);
    assert.equal(sent.email_id, created.email_id);
    const m = await code(email);
    assert.equal(m.channel, "email");
    assert.equal(m.subject, `Votre code de vérification pour ${PROJECT_NAME}`);
    assert.ok(m.body_text.startsWith(`Votre code de vérification pour ${PROJECT_NAME} est ${m.code}.`));
    const res = await c.otps.authenticate({ method_id: sent.email_id, code: m.code, session_duration_minutes: 15 });
    assert.equal(res.user_id, created.user_id);
    assert.deepEqual(res.session.authentication_factors[0].email_factor, { email_id: created.email_id, email_address: email });
    assert.equal(res.user.emails[0].verified, true);
    await expectStytchError(c.otps.authenticate({ method_id: sent.email_id, code: m.code }), { status_code: 401, error_type: "unable_to_auth_otp_code" });
  });
});
