// passwords.*: create, authenticate, strengthCheck, migrate, the email,
// existing-password and session resets.

import assert from "node:assert/strict";
import crypto from "node:crypto";
import { describe, test } from "node:test";
import {
  client,
  other,
  expectStytchError,
  latestMessage,
  waitForMessages,
  uniqueEmail,
  decodeJwt,
  latchCLI,
  signIn,
  isoWithin,
  DEFAULT_REDIRECT,
  ID,
  totp,
} from "../lib/helpers.mjs";

const c = client();
const STRONG = "correct horse battery staple 9";
const SESSION_CLAIM = "https://stytch.com/session";
const SECOND = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

/** The password factor as the SDK's AuthenticationFactor type has it. */
function assertPasswordFactor(f) {
  assert.deepEqual(Object.keys(f).sort(), ["created_at", "delivery_method", "last_authenticated_at", "type", "updated_at"]);
  assert.equal(f.type, "password");
  assert.equal(f.delivery_method, "knowledge");
  for (const k of ["created_at", "updated_at", "last_authenticated_at"]) assert.match(f[k], SECOND, k);
}

describe("passwords", () => {
  test("strengthCheck: zxcvbn score, feedback and breach detection", async () => {
    const weak = await c.passwords.strengthCheck({ password: "password1", email: "someone@example.com" });
    assert.equal(weak.valid_password, false);
    assert.equal(weak.breached_password, true);
    assert.equal(weak.strength_policy, "zxcvbn");
    assert.equal(weak.score, 0);
    assert.equal(weak.feedback.warning, "This is a very common password");
    const strong = await c.passwords.strengthCheck({ password: STRONG });
    assert.equal(strong.valid_password, true);
    assert.equal(strong.score, 4);
    assert.equal(strong.breached_password, false);
  });

  test("create → authenticate; wrong password; duplicate", async () => {
    const email = uniqueEmail("pw");
    await expectStytchError(c.passwords.create({ email, password: "password1" }), { status_code: 400, error_type: "breached_password" });
    const created = await c.passwords.create({ email, password: STRONG, session_duration_minutes: 60 });
    assert.match(created.user_id, ID.user);
    assert.match(created.email_id, ID.email);
    assert.deepEqual(created.session.authentication_factors.map((f) => `${f.type}/${f.delivery_method}`), ["password/knowledge"]);
    assert.match(created.user.password.password_id, /^password-test-/);
    await expectStytchError(c.passwords.create({ email, password: STRONG }), { status_code: 400, error_type: "duplicate_email" });
    const auth = await c.passwords.authenticate({ email, password: STRONG, session_duration_minutes: 30 });
    assert.equal(auth.user_id, created.user_id);
    assert.match(auth.session_token, /^[A-Za-z0-9_-]{44}$/);
    const got = await c.users.get({ user_id: created.user_id });
    assert.deepEqual(got.password, { password_id: created.user.password.password_id, requires_reset: false });
    const viaSession = await c.sessions.authenticate({ session_token: auth.session_token });
    assert.deepEqual(viaSession.user.password, got.password);
    await expectStytchError(c.passwords.authenticate({ email, password: "not it" }), { status_code: 401, error_type: "unauthorized_credentials" });
  });

  test("migrate a salted SHA-1 hash, then log in with it", async () => {
    const email = uniqueEmail("mig");
    const password = "Migrated-Passphrase-" + crypto.randomBytes(4).toString("hex");
    const hash = crypto.createHash("sha1").update("s4lt" + password).digest("base64");
    const res = await c.passwords.migrate({ email, hash, hash_type: "sha_1", sha_1_config: { prepend_salt: "s4lt", append_salt: "" }, set_email_verified: true });
    assert.equal(res.user_created, true);
    assert.equal(res.user.emails[0].verified, true);
    const auth = await c.passwords.authenticate({ email, password });
    assert.equal(auth.user_id, res.user_id);
  });

  // One vector per hash type Stytch documents, each produced by an
  // independent implementation (the sources are in internal/hashes/vectors_test.go).
  const CHS = "correct horse battery staple";
  const UNI = "pässwörd✓ 🔑";
  const vectors = [
    ["md_5", UNI, { hash: "WsQVkVjFY1lIu+mHCQbmfg==", md_5_config: { prepend_salt: "ünï", append_salt: "" } }],
    ["sha_1", CHS, { hash: "8E3B376F9EE8B23F4742696E8C692EBF6B61C6F2", sha_1_config: { prepend_salt: "s4lt$", append_salt: "!pepper" } }],
    ["sha_512", CHS, { hash: "FsQ7O_8Z2H-0qs-E09mXnFwUVAKeNkdxbNSgKKLOKzZhXYtpsgo26zh9yxgilePVqcgMjl3Vex0a5UC39KaRAA", sha_512_config: { prepend_salt: "s4lt$", append_salt: "!pepper" } }],
    ["bcrypt", CHS, { hash: "$2y$10$jSn8jGHaVrK8i1Nmp/HZK.pPAxfT0vcFpeT01ljZVuIMfDbV.94XC" }],
    ["argon_2i", UNI, { hash: "$argon2i$v=19$m=2048,t=2,p=2$bWgxT2xseXp2VFlhV2VQTA$eeBnH3qiVr+rSz4H3+I/EYlyCTQw6fvR2RVSgi965qk" }],
    ["argon_2id", CHS, { hash: "$argon2id$v=19$m=4096,t=3,p=1$Lk9ISUo2bXlCSUxNeGxiMA$fkBPRKOAxuajnxTp7cTpQndXe4DY+WgTlwvpFnWGLSU" }],
    ["scrypt", UNI, { hash: "98dff3722d478379e2b81eea323946cf0808d9af6b106b27d0c127af4d650f1c708363540b95be7c7dc6c806195accdbf3131d1b787ae6fde114182281d00283",
      scrypt_config: { salt: "dQs7fwbIA5Up2WUZFyc-t8K2Lgir0uyCpW0BouP4mhQ", n_parameter: 2048, r_parameter: 4, p_parameter: 2, key_length: 64 } }],
    ["phpass", "compL3X!", { hash: "$P$FiS0N5L672xzQx1rt1vgdJQRYKnQM9/" }],
    ["pbkdf_2", UNI, { hash: "f71ad7c0cc9cad6a992c34e499a84e1c0bd573efb611d5e0aefb17fd622e151b71114c309e666663de187e07b0e0a6fb89434f641cb6aafcfa9784f3078f9372",
      pbkdf_2_config: { salt: "llxXhBytiXWzcvQjD5847nh8F+FxR43h", iteration_amount: 2000, key_length: 64, algorithm: "sha512" } }],
  ];
  for (const [hash_type, password, fields] of vectors) {
    test(`migrate a ${hash_type} hash from another implementation, then log in with it`, async () => {
      const email = uniqueEmail(`mig-${hash_type}`);
      const res = await c.passwords.migrate({ email, hash_type, ...fields });
      assert.equal(res.user_created, true);
      assert.equal(res.email_id, res.user.emails[0].email_id);
      assert.equal(res.user.password.requires_reset, false);
      await expectStytchError(c.passwords.authenticate({ email, password: password + "x" }), { status_code: 401, error_type: "unauthorized_credentials" });
      const auth = await c.passwords.authenticate({ email, password, session_duration_minutes: 5 });
      assert.equal(auth.user_id, res.user_id);
      assert.equal(auth.session.authentication_factors[0].type, "password");
      // The first login rehashed it to argon2id; it keeps working.
      const again = await c.passwords.authenticate({ email, password });
      assert.equal(again.user_id, res.user_id);
    });
  }

  test("email reset, existing-password reset, session reset", async () => {
    const email = uniqueEmail("reset");
    const created = await c.passwords.create({ email, password: STRONG, session_duration_minutes: 60 });
    const start = await c.passwords.email.resetStart({ email });
    assert.equal(start.user_id, created.user_id);
    const msg = await latestMessage(email);
    assert.ok(msg.subject.startsWith("Reset your"));
    const reset = await c.passwords.email.reset({ token: msg.token, password: "a brand new passphrase 31", session_duration_minutes: 10 });
    assert.equal(reset.user_id, created.user_id);
    await expectStytchError(c.sessions.authenticate({ session_token: created.session_token }), { status_code: 404, error_type: "session_not_found" });
    await expectStytchError(c.passwords.email.reset({ token: msg.token, password: "another passphrase 55" }), { status_code: 401, error_type: "unable_to_auth_password_reset_token" });
    const existing = await c.passwords.existingPassword.reset({ email, existing_password: "a brand new passphrase 31", new_password: "third passphrase for this 77", session_duration_minutes: 10 });
    const viaSession = await c.passwords.sessions.reset({ session_token: existing.session_token, password: "fourth passphrase in a row 88" });
    assert.equal(viaSession.user_id, created.user_id);
    await c.passwords.authenticate({ email, password: "fourth passphrase in a row 88" });
  });

  test("a breached password logs in only through a reset (reset_password)", async () => {
    const email = uniqueEmail("breached");
    // Stytch's migrate has no requires_reset field; a migrated breached password is the other documented way.
    const hash = crypto.createHash("md5").update("password1").digest("hex");
    const mig = await c.passwords.migrate({ email, hash, hash_type: "md_5" });
    assert.deepEqual(mig.user.password, { password_id: mig.user.password.password_id, requires_reset: false });
    await expectStytchError(c.passwords.authenticate({ email, password: "password1" }), { status_code: 400, error_type: "reset_password" });
    await c.passwords.email.resetStart({ email });
    const msg = await latestMessage(email);
    const reset = await c.passwords.email.reset({ token: msg.token, password: STRONG, session_duration_minutes: 5 });
    assert.equal(reset.user_id, mig.user_id);
    assert.equal(reset.user.emails[0].verified, true, "the reset link proved the address");
    await c.passwords.authenticate({ email, password: STRONG });
  });

  test("lockout: is_locked, lock_created_at, lock_expires_at and user_lock_limit_reached", async () => {
    const email = uniqueEmail("lock");
    const created = await c.passwords.create({ email, password: STRONG });
    for (let i = 1; i < 10; i++) {
      await expectStytchError(c.passwords.authenticate({ email, password: "wrong " + i }), { status_code: 401, error_type: "unauthorized_credentials" });
    }
    const unlocked = await c.users.get({ user_id: created.user_id });
    assert.equal(unlocked.is_locked, false);
    assert.equal(unlocked.lock_created_at, null);
    assert.equal(unlocked.lock_expires_at, null);
    const lo = Math.floor(Date.now() / 1000) * 1000;
    await expectStytchError(c.passwords.authenticate({ email, password: "wrong 10" }), { status_code: 429, error_type: "user_lock_limit_reached" });
    const hi = Date.now();
    // Locked: the right password is refused too.
    await expectStytchError(c.passwords.authenticate({ email, password: STRONG }), { status_code: 429, error_type: "user_lock_limit_reached" });
    const locked = await c.users.get({ user_id: created.user_id });
    assert.equal(locked.is_locked, true);
    assert.match(locked.lock_created_at, SECOND);
    isoWithin(locked.lock_created_at, lo, hi, "lock_created_at");
    assert.equal(Date.parse(locked.lock_expires_at) - Date.parse(locked.lock_created_at), 60 * 60 * 1000, "locked for 60 minutes");
  });

  test("password then TOTP: both factors on the session and in the JWT", async () => {
    const email = uniqueEmail("pwtotp");
    const created = await c.passwords.create({ email, password: STRONG });
    const auth = await c.passwords.authenticate({ email, password: STRONG, session_duration_minutes: 60 });
    assert.equal(auth.session.authentication_factors.length, 1);
    assertPasswordFactor(auth.session.authentication_factors[0]);
    const reg = await c.totps.create({ user_id: created.user_id });
    const res = await c.totps.authenticate({ user_id: created.user_id, totp_code: totp(reg.secret), session_token: auth.session_token });
    assert.equal(res.session.session_id, auth.session.session_id);
    assert.equal(res.session_token, auth.session_token);
    const [pw, tf] = res.session.authentication_factors;
    assert.equal(res.session.authentication_factors.length, 2);
    assertPasswordFactor(pw);
    assert.deepEqual(pw, auth.session.authentication_factors[0], "the password factor is kept as it was");
    assert.deepEqual(Object.keys(tf).sort(), ["authenticator_app_factor", "created_at", "delivery_method", "last_authenticated_at", "type", "updated_at"]);
    assert.equal(tf.type, "totp");
    assert.equal(tf.delivery_method, "authenticator_app");
    assert.deepEqual(tf.authenticator_app_factor, { totp_id: reg.totp_id });
    const claim = decodeJwt(res.session_jwt).payload[SESSION_CLAIM];
    assert.equal(claim.id, auth.session.session_id);
    assert.deepEqual(claim.authentication_factors, res.session.authentication_factors);
  });

  test("authenticate with session_jwt and session_custom_claims adds the factor and the claims", async () => {
    const email = uniqueEmail("pwjwt");
    await c.passwords.create({ email, password: STRONG });
    const login = await signIn(c, email, { session_custom_claims: { plan: "free", keep: 1 } });
    const res = await c.passwords.authenticate({
      email,
      password: STRONG,
      session_jwt: login.session_jwt,
      session_custom_claims: { plan: "pro", keep: null, added: { nested: true } },
    });
    assert.equal(res.session.session_id, login.session.session_id);
    // Tokens are stored only as hashes, so a session found by its JWT cannot give its token back.
    assert.equal(res.session_token, "");
    assert.notEqual(res.session_jwt, login.session_jwt);
    assert.deepEqual(res.session.custom_claims, { plan: "pro", added: { nested: true } });
    assert.deepEqual(res.session.authentication_factors.map((f) => `${f.type}/${f.delivery_method}`), ["magic_link/email", "password/knowledge"]);
    assertPasswordFactor(res.session.authentication_factors[1]);
    const payload = decodeJwt(res.session_jwt).payload;
    assert.equal(payload.plan, "pro");
    assert.deepEqual(payload.added, { nested: true });
    assert.equal(payload.keep, undefined);
    assert.deepEqual(payload[SESSION_CLAIM].authentication_factors.map((f) => f.type), ["magic_link", "password"]);
    // The original token still names the same session.
    const check = await c.sessions.authenticate({ session_token: login.session_token });
    assert.equal(check.session.authentication_factors.length, 2);
  });

  test("resetStart checks login_redirect_url and locale; reset honours attributes and options", async () => {
    const email = uniqueEmail("resetattr");
    const created = await c.passwords.create({ email, password: STRONG });
    await expectStytchError(c.passwords.email.resetStart({ email, locale: "xx" }), { status_code: 400, error_type: "invalid_locale" });
    await expectStytchError(c.passwords.email.resetStart({ email, login_redirect_url: "https://unregistered.example/login" }), {
      status_code: 400,
      error_type: "no_match_for_provided_magic_link_url",
    });
    const attributes = { ip_address: "203.0.113.9", user_agent: "SDK-Test/1.0" };
    await c.passwords.email.resetStart({ email, login_redirect_url: DEFAULT_REDIRECT, locale: "es", attributes });
    const [msg] = await waitForMessages(email);
    const options = { ip_match_required: true, user_agent_match_required: true };
    await expectStytchError(
      c.passwords.email.reset({ token: msg.token, password: "a newer passphrase 12", attributes: { ...attributes, ip_address: "198.51.100.1" }, options }),
      { status_code: 401, error_type: "attribute_mismatch" },
    );
    const reset = await c.passwords.email.reset({ token: msg.token, password: "a newer passphrase 12", attributes, options, session_duration_minutes: 5 });
    assert.equal(reset.user_id, created.user_id);
    assert.deepEqual(reset.session.attributes, attributes);
  });

  test("LUDS policy and breach detection set per project with `latch projects update`", async () => {
    const b = client(other);
    const out = JSON.parse(
      await latchCLI("projects", "update", "--project", other.project_id, "--password-policy", "luds", "--luds-min-length", "10", "--luds-min-complexity", "4"),
    );
    assert.deepEqual(out.passwords, { policy: "luds", luds_min_length: 10, luds_min_complexity: 4 });
    try {
      const weak = await b.passwords.strengthCheck({ password: "abcDEF12" });
      assert.equal(weak.strength_policy, "luds");
      assert.equal(weak.valid_password, false);
      assert.equal(weak.breach_detection_on_create, true);
      assert.equal(weak.breached_password, false);
      assert.deepEqual(weak.feedback.luds_requirements, {
        has_lower_case: true,
        has_upper_case: true,
        has_digit: true,
        has_symbol: false,
        missing_complexity: 1,
        missing_characters: 2,
      });
      const ok = await b.passwords.strengthCheck({ password: "abcDEF12!?" });
      assert.equal(ok.valid_password, true);
      assert.deepEqual(ok.feedback.luds_requirements, {
        has_lower_case: true,
        has_upper_case: true,
        has_digit: true,
        has_symbol: true,
        missing_complexity: 0,
        missing_characters: 0,
      });
      const email = uniqueEmail("luds");
      const err = await expectStytchError(b.passwords.create({ email, password: "abcDEF12" }), { status_code: 400, error_type: "weak_password" });
      assert.match(err.error_message, /LUDS/);
      // A passphrase zxcvbn loves has one character class.
      await expectStytchError(b.passwords.create({ email, password: STRONG }), { status_code: 400, error_type: "weak_password" });
      const created = await b.passwords.create({ email, password: "abcDEF12!?", session_duration_minutes: 5 });
      assert.match(created.user_id, ID.user);
      await expectStytchError(b.passwords.existingPassword.reset({ email, existing_password: "abcDEF12!?", new_password: "Short1!" }), {
        status_code: 400,
        error_type: "weak_password",
      });

      // Breach detection off: the list is not consulted, and breached_password is false.
      await latchCLI("projects", "update", "--project", other.project_id, "--breach-detection-on-create", "false", "--luds-min-length", "8", "--luds-min-complexity", "3");
      const breached = await b.passwords.strengthCheck({ password: "Password1", email });
      assert.equal(breached.breach_detection_on_create, false);
      assert.equal(breached.breached_password, false);
      assert.equal(breached.valid_password, true);
      await b.passwords.create({ email: uniqueEmail("luds2"), password: "Password1" });
    } finally {
      await latchCLI("projects", "update", "--project", other.project_id, "--password-policy", "zxcvbn", "--breach-detection-on-create", "true");
    }
    const back = await b.passwords.strengthCheck({ password: "Password1", email: "someone@example.com" });
    assert.equal(back.strength_policy, "zxcvbn");
    assert.equal(back.breached_password, true);
    assert.equal(back.feedback.luds_requirements, undefined);
  });
});
