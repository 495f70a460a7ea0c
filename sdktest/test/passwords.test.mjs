// passwords.*: create, authenticate, strengthCheck, migrate, the email,
// existing-password and session resets.

import assert from "node:assert/strict";
import crypto from "node:crypto";
import { describe, test } from "node:test";
import { client, expectStytchError, latestMessage, uniqueEmail, ID } from "../lib/helpers.mjs";

const c = client();
const STRONG = "correct horse battery staple 9";

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
});
