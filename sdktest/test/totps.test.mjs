// totps.*: create (secret, QR code, recovery codes), authenticate (RFC 6238
// codes computed here, replay refusal, sessions, adding the factor to an
// existing session), recover (single use) and recoveryCodes.

import assert from "node:assert/strict";
import { describe, test, before } from "node:test";
import {
  other,
  client,
  expectStytchError,
  assertRequestId,
  uniqueEmail,
  decodeJwt,
  signIn,
  ID,
  totp,
  base32Decode,
  TOTP_PERIOD_MS,
} from "../lib/helpers.mjs";

const c = client();
const SESSION_CLAIM = "https://stytch.com/session";
const TOTP_ID = /^totp-test-[0-9a-f-]{36}$/;
const RECOVERY_CODE = /^[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4}$/;

/** A 6-digit code that is not valid anywhere near now. */
function wrongCode(secret) {
  const now = Date.now();
  const near = new Set([-2, -1, 0, 1, 2].map((k) => totp(secret, now + k * TOTP_PERIOD_MS)));
  return ["000000", "111111", "222222", "333333", "444444", "555555"].find((x) => !near.has(x));
}

async function newUser(label) {
  const email = uniqueEmail(label);
  const u = await c.users.create({ email });
  return { email, user_id: u.user_id };
}

describe("RFC 6238 helper", () => {
  test("matches the RFC's SHA-1 test vectors", () => {
    const secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"; // base32("12345678901234567890")
    assert.equal(totp(secret, 59_000), "287082");
    assert.equal(totp(secret, 1111111109_000), "081804");
    assert.equal(totp(secret, 1234567890_000), "005924");
    assert.equal(totp(secret, 2000000000_000), "279037");
  });
});

describe("totps.create → authenticate → recover → recoveryCodes", () => {
  let user;
  let created;
  let first;
  let firstCode;

  before(async () => {
    user = await newUser("totp");
    created = await c.totps.create({ user_id: user.user_id });
  });

  test("create returns a secret, a PNG QR code and ten recovery codes", async () => {
    assert.equal(created.status_code, 200);
    assertRequestId(created);
    assert.match(created.totp_id, TOTP_ID);
    assert.equal(created.user_id, user.user_id);
    assert.match(created.secret, /^[A-Z2-7]{32}$/);
    assert.equal(base32Decode(created.secret).length, 20);

    assert.ok(created.qr_code.startsWith("data:image/png;base64,"), created.qr_code.slice(0, 40));
    const png = Buffer.from(created.qr_code.slice("data:image/png;base64,".length), "base64");
    assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], "PNG signature");
    assert.equal(png.subarray(12, 16).toString("latin1"), "IHDR");
    const width = png.readUInt32BE(16);
    assert.ok(width >= 100 && width === png.readUInt32BE(20), `square QR image, ${width}px`);

    assert.equal(created.recovery_codes.length, 10);
    for (const rc of created.recovery_codes) assert.match(rc, RECOVERY_CODE);
    assert.equal(new Set(created.recovery_codes).size, 10, "recovery codes are distinct");

    assert.equal(created.user.user_id, user.user_id);
    assert.deepEqual(created.user.totps, [{ totp_id: created.totp_id, verified: false }]);
    assert.equal(created.user.emails[0].email, user.email);
  });

  test("authenticate with the current code starts a session with the totp factor", async () => {
    firstCode = totp(created.secret);
    first = await c.totps.authenticate({
      user_id: user.user_id,
      totp_code: firstCode,
      session_duration_minutes: 60,
    });
    assert.equal(first.status_code, 200);
    assertRequestId(first);
    assert.equal(first.user_id, user.user_id);
    assert.equal(first.totp_id, created.totp_id);
    assert.equal(first.session_token.length, 44);
    assert.equal(first.session_jwt.split(".").length, 3);
    assert.match(first.session.session_id, ID.session);
    assert.equal(first.session.user_id, user.user_id);
    assert.equal(first.session.authentication_factors.length, 1);
    const f = first.session.authentication_factors[0];
    assert.equal(f.type, "totp");
    assert.equal(f.delivery_method, "authenticator_app");
    assert.deepEqual(f.authenticator_app_factor, { totp_id: created.totp_id });
    assert.ok(!Number.isNaN(Date.parse(f.last_authenticated_at)));
    assert.deepEqual(first.user.totps, [{ totp_id: created.totp_id, verified: true }]);
    // Every user object shows the registration: users.get, search, sessions.
    const got = await c.users.get({ user_id: user.user_id });
    assert.deepEqual(got.totps, [{ totp_id: created.totp_id, verified: true }]);
    const viaSession = await c.sessions.authenticate({ session_token: first.session_token });
    assert.deepEqual(viaSession.user.totps, got.totps);
    const found = await c.users.search({ query: { operator: "AND", operands: [{ filter_name: "user_id", filter_value: [user.user_id] }] } });
    assert.deepEqual(found.results[0].totps, got.totps);

    const claim = decodeJwt(first.session_jwt).payload[SESSION_CLAIM];
    assert.equal(claim.id, first.session.session_id);
    assert.deepEqual(claim.authentication_factors.map((x) => x.type), ["totp"]);
  });

  test("the same code cannot be used twice", async () => {
    await expectStytchError(c.totps.authenticate({ user_id: user.user_id, totp_code: firstCode }), {
      error_type: "totp_code_already_authenticated",
      status_code: 400,
    });
  });

  test("the next step's code works (clock skew of one step), without a session", async () => {
    const res = await c.totps.authenticate({ user_id: user.user_id, totp_code: totp(created.secret, Date.now() + TOTP_PERIOD_MS) });
    assert.equal(res.status_code, 200);
    assert.equal(res.totp_id, created.totp_id);
    assert.equal(res.session_token, "");
    assert.equal(res.session_jwt, "");
    assert.equal(res.session ?? null, null);
  });

  test("wrong and malformed codes", async () => {
    await expectStytchError(c.totps.authenticate({ user_id: user.user_id, totp_code: wrongCode(created.secret) }), {
      error_type: "unable_to_authenticate_totp",
      status_code: 401,
    });
    for (const bad of ["12345", "1234567", "abcdef", ""]) {
      await expectStytchError(c.totps.authenticate({ user_id: user.user_id, totp_code: bad }), {
        error_type: "invalid_totp_code",
        status_code: 400,
      });
    }
  });

  test("a second create is refused while a verified TOTP exists", async () => {
    await expectStytchError(c.totps.create({ user_id: user.user_id }), { error_type: "active_totp_exists", status_code: 400 });
  });

  test("recover with a recovery code, once", async () => {
    const code = created.recovery_codes[0];
    const res = await c.totps.recover({ user_id: user.user_id, recovery_code: code, session_duration_minutes: 30 });
    assert.equal(res.status_code, 200);
    assertRequestId(res);
    assert.equal(res.user_id, user.user_id);
    assert.equal(res.totp_id, created.totp_id);
    assert.equal(res.session_token.length, 44);
    assert.equal(res.session.authentication_factors.length, 1);
    const f = res.session.authentication_factors[0];
    assert.equal(f.type, "recovery_codes");
    assert.equal(f.delivery_method, "recovery_code");
    assert.match(f.recovery_code_factor.totp_recovery_code_id, /^totp-recovery-code-test-[0-9a-f-]{36}$/);

    await expectStytchError(c.totps.recover({ user_id: user.user_id, recovery_code: code }), {
      error_type: "unable_to_authenticate_recovery_code",
      status_code: 401,
    });
    await expectStytchError(c.totps.recover({ user_id: user.user_id, recovery_code: "not-a-code" }), {
      error_type: "invalid_recovery_code",
      status_code: 400,
    });
    // A second, unused code still works.
    const again = await c.totps.recover({ user_id: user.user_id, recovery_code: created.recovery_codes[1] });
    assert.equal(again.status_code, 200);
    assert.equal(again.session ?? null, null);
  });

  test("recoveryCodes shows the unused codes again", async () => {
    const res = await c.totps.recoveryCodes({ user_id: user.user_id });
    assert.equal(res.status_code, 200);
    assertRequestId(res);
    assert.equal(res.user_id, user.user_id);
    // Codes 0 and 1 were used above; the other eight remain.
    const unused = created.recovery_codes.slice(2).sort();
    assert.deepEqual(res.totps, [{ totp_id: created.totp_id, verified: true, recovery_codes: unused }]);
  });
});

describe("totps and sessions", () => {
  test("a TOTP code adds a second factor to a magic-link session (and to its JWT)", async () => {
    const email = uniqueEmail("mfa");
    const login = await signIn(c, email);
    const reg = await c.totps.create({ user_id: login.user_id });
    const res = await c.totps.authenticate({
      user_id: login.user_id,
      totp_code: totp(reg.secret),
      session_token: login.session_token,
    });
    assert.equal(res.session.session_id, login.session.session_id);
    assert.equal(res.session_token, login.session_token);
    assert.deepEqual(
      res.session.authentication_factors.map((f) => `${f.type}/${f.delivery_method}`),
      ["magic_link/email", "totp/authenticator_app"],
    );
    const claim = decodeJwt(res.session_jwt).payload[SESSION_CLAIM];
    assert.deepEqual(claim.authentication_factors.map((f) => f.type), ["magic_link", "totp"]);
    assert.deepEqual(claim.authentication_factors[1].authenticator_app_factor, { totp_id: reg.totp_id });

    const check = await c.sessions.authenticate({ session_jwt: res.session_jwt });
    assert.equal(check.session.authentication_factors.length, 2);

    // A recovery code by session_jwt adds a third factor to the same session.
    const rec = await c.totps.recover({ user_id: login.user_id, recovery_code: reg.recovery_codes[5], session_jwt: res.session_jwt });
    assert.equal(rec.session.session_id, login.session.session_id);
    assert.deepEqual(rec.session.authentication_factors.map((f) => f.type), ["magic_link", "totp", "recovery_codes"]);
  });

  test("another user's session is refused and the code is not spent", async () => {
    const a = await newUser("owner");
    const b = await signIn(c, uniqueEmail("intruder"));
    const reg = await c.totps.create({ user_id: a.user_id });
    const code = totp(reg.secret);
    await expectStytchError(c.totps.authenticate({ user_id: a.user_id, totp_code: code, session_token: b.session_token }), {
      error_type: "session_user_mismatch",
      status_code: 400,
    });
    const ok = await c.totps.authenticate({ user_id: a.user_id, totp_code: code });
    assert.equal(ok.status_code, 200);
  });
});

describe("totps errors and isolation", () => {
  test("unknown users and users without a TOTP", async () => {
    const missing = "user-test-00000000-0000-4000-8000-000000000000";
    await expectStytchError(c.totps.create({ user_id: missing }), { error_type: "user_not_found", status_code: 404 });
    const u = await newUser("nototp");
    await expectStytchError(c.totps.authenticate({ user_id: u.user_id, totp_code: "123456" }), {
      error_type: "totp_not_found",
      status_code: 404,
    });
    const none = await c.totps.recoveryCodes({ user_id: u.user_id });
    assert.deepEqual(none.totps, []);
  });

  test("expiration_minutes must be 5..1440; an unverified TOTP is replaced by the next create", async () => {
    const u = await newUser("pending");
    for (const m of [4, 1441]) {
      await expectStytchError(c.totps.create({ user_id: u.user_id, expiration_minutes: m }), {
        error_type: "invalid_expiration",
        status_code: 400,
      });
    }
    const one = await c.totps.create({ user_id: u.user_id, expiration_minutes: 5 });
    const two = await c.totps.create({ user_id: u.user_id, expiration_minutes: 5 });
    assert.notEqual(one.totp_id, two.totp_id);
    assert.deepEqual(two.user.totps, [{ totp_id: two.totp_id, verified: false }]);
    const list = await c.totps.recoveryCodes({ user_id: u.user_id });
    assert.deepEqual(list.totps, [{ totp_id: two.totp_id, verified: false, recovery_codes: [...two.recovery_codes].sort() }]);
  });

  test("another project cannot use the user's TOTP", async () => {
    const u = await newUser("iso");
    const reg = await c.totps.create({ user_id: u.user_id });
    const c2 = client(other);
    await expectStytchError(c2.totps.authenticate({ user_id: u.user_id, totp_code: totp(reg.secret) }), {
      error_type: "user_not_found",
      status_code: 404,
    });
    await expectStytchError(c2.totps.recoveryCodes({ user_id: u.user_id }), { error_type: "user_not_found", status_code: 404 });
  });
});
