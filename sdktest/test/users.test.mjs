// users.*: create, get, update, search (+ searchAll), deleteEmail,
// deletePhoneNumber, delete — through the official stytch SDK.

import assert from "node:assert/strict";
import { describe, test, before } from "node:test";
import {
  client,
  other,
  expectStytchError,
  assertRequestId,
  mixedCaseEmail,
  uniqueEmail,
  randomHex,
  isoWithin,
  ID,
} from "../lib/helpers.mjs";

const c = client();

function assertUserShape(u) {
  assert.match(u.user_id, ID.user);
  for (const k of ["emails", "phone_numbers", "webauthn_registrations", "providers", "totps", "crypto_wallets", "biometric_registrations", "roles"]) {
    assert.ok(Array.isArray(u[k]), `user.${k} is an array`);
  }
  assert.equal(u.is_locked, false);
  assert.equal(typeof u.created_at, "string");
}

/** A random North-American test phone number in E.164 and a spaced form. */
function phone() {
  const n = String(1000 + Math.floor(Math.random() * 9000));
  const x = String(200 + Math.floor(Math.random() * 700));
  return { spaced: `+1 415 ${x} ${n}`, e164: `+1415${x}${n}` };
}

describe("users.create", () => {
  test("normalises email and phone, stores name, metadata and external_id", async () => {
    const { raw, normalised } = mixedCaseEmail("Ada.Lovelace");
    assert.notEqual(raw, normalised);
    const external_id = `ext-${randomHex()}`;
    const tBefore = Date.now() - 2000;
    const res = await c.users.create({
      email: raw,
      phone_number: "+1 415 555 2671",
      name: { first_name: "Ada", middle_name: "King", last_name: "Lovelace" },
      trusted_metadata: { plan: "pro", limits: { seats: 5 } },
      untrusted_metadata: { theme: "dark" },
      external_id,
    });
    const tAfter = Date.now() + 2000;
    assert.equal(res.status_code, 201);
    assertRequestId(res);
    assert.match(res.user_id, ID.user);
    assert.match(res.email_id, ID.email);
    assert.match(res.phone_id, ID.phone);
    assert.equal(res.status, "active");

    const u = res.user;
    assertUserShape(u);
    assert.equal(u.user_id, res.user_id);
    assert.equal(u.status, "active");
    assert.deepEqual(u.emails, [{ email_id: res.email_id, email: normalised, verified: false }]);
    assert.deepEqual(u.phone_numbers, [{ phone_id: res.phone_id, phone_number: "+14155552671", verified: false }]);
    assert.deepEqual(u.name, { first_name: "Ada", middle_name: "King", last_name: "Lovelace" });
    assert.deepEqual(u.trusted_metadata, { plan: "pro", limits: { seats: 5 } });
    assert.deepEqual(u.untrusted_metadata, { theme: "dark" });
    assert.equal(u.external_id, external_id);
    isoWithin(u.created_at, tBefore, tAfter, "created_at");

    // The phone number is unique per project, so clean up for re-runs against the same data.
    await c.users.delete({ user_id: res.user_id });
  });

  test("create_user_as_pending gives a pending user", async () => {
    const email = uniqueEmail("pending");
    const res = await c.users.create({ email, create_user_as_pending: true });
    assert.equal(res.status_code, 201);
    assert.equal(res.status, "pending");
    assert.equal(res.user.status, "pending");
    assert.equal(res.phone_id, "");
    assert.equal(res.user.emails[0].email, email);
  });

  test("duplicate email (any case) → duplicate_email", async () => {
    const { raw, normalised } = mixedCaseEmail("Dup");
    await c.users.create({ email: normalised });
    await expectStytchError(c.users.create({ email: raw }), { error_type: "duplicate_email", status_code: 400 });
  });

  test("invalid email → invalid_email", async () => {
    await expectStytchError(c.users.create({ email: "not-an-email" }), { error_type: "invalid_email", status_code: 400 });
  });

  test("invalid phone → invalid_phone_number", async () => {
    await expectStytchError(c.users.create({ phone_number: "12345" }), {
      error_type: "invalid_phone_number",
      status_code: 400,
    });
  });
});

describe("users.get", () => {
  let created;
  const external_id = `ext-get-${randomHex()}`;
  before(async () => {
    created = await c.users.create({
      email: uniqueEmail("get"),
      name: { first_name: "Grace", last_name: "Hopper" },
      external_id,
    });
  });

  test("by user_id", async () => {
    const res = await c.users.get({ user_id: created.user_id });
    assert.equal(res.status_code, 200);
    assertRequestId(res);
    assert.equal(res.user_id, created.user_id);
    assert.equal(res.status, "active");
    assert.deepEqual(res.emails, created.user.emails);
    assert.deepEqual(res.name, { first_name: "Grace", middle_name: "", last_name: "Hopper" });
    assert.equal(res.external_id, external_id);
    assert.equal(res.created_at, created.user.created_at);
    assert.equal(res.is_locked, false);
  });

  test("by external_id", async () => {
    const res = await c.users.get({ user_id: external_id });
    assert.equal(res.user_id, created.user_id);
    assert.equal(res.external_id, external_id);
  });

  test("by an external_id with . _ - characters", async () => {
    const ext = `crm.${randomHex()}_a-b`;
    const u = await c.users.create({ email: uniqueEmail("extchars"), external_id: ext });
    const res = await c.users.get({ user_id: ext });
    assert.equal(res.user_id, u.user_id);
    assert.equal(res.external_id, ext);
  });

  test("duplicate external_id → 400 duplicate_…external_id", async () => {
    await expectStytchError(c.users.create({ email: uniqueEmail("dupext"), external_id }), {
      error_type: /^duplicate_(user_)?external_id$/,
      status_code: 400,
    });
  });

  test("unknown user → user_not_found", async () => {
    await expectStytchError(c.users.get({ user_id: "user-test-00000000-0000-4000-8000-000000000000" }), {
      error_type: "user_not_found",
      status_code: 404,
    });
  });
});

describe("users.update", () => {
  test("name and metadata: top-level keys replaced, null deletes", async () => {
    const created = await c.users.create({
      email: uniqueEmail("update"),
      name: { first_name: "Old", last_name: "Name" },
      trusted_metadata: { keep: 1, replace: { a: 1, b: 2 }, drop: "x" },
      untrusted_metadata: { u1: "one", u2: "two" },
    });
    const res = await c.users.update({
      user_id: created.user_id,
      name: { first_name: "New", last_name: "Person" },
      trusted_metadata: { replace: { c: 3 }, drop: null, added: [1, 2] },
      untrusted_metadata: { u2: null },
    });
    assert.equal(res.status_code, 200);
    assertRequestId(res);
    assert.equal(res.user_id, created.user_id);
    assert.deepEqual(res.emails, created.user.emails);
    assert.deepEqual(res.phone_numbers, []);
    assert.deepEqual(res.crypto_wallets, []);
    assert.deepEqual(res.user.name, { first_name: "New", middle_name: "", last_name: "Person" });
    assert.deepEqual(res.user.trusted_metadata, { keep: 1, replace: { c: 3 }, added: [1, 2] });
    assert.deepEqual(res.user.untrusted_metadata, { u1: "one" });

    const got = await c.users.get({ user_id: created.user_id });
    assert.deepEqual(got.trusted_metadata, { keep: 1, replace: { c: 3 }, added: [1, 2] });
    assert.deepEqual(got.untrusted_metadata, { u1: "one" });
    assert.deepEqual(got.name, { first_name: "New", middle_name: "", last_name: "Person" });
  });

  test("unknown user → user_not_found", async () => {
    await expectStytchError(
      c.users.update({ user_id: "user-test-00000000-0000-4000-8000-000000000000", name: { first_name: "X" } }),
      { error_type: "user_not_found", status_code: 404 },
    );
  });
});

describe("users.search", () => {
  // A tag that only this test run's search users carry, so results are exact.
  const tag = `srch${randomHex(4)}`;
  const users = [];
  let t0;
  let t1;
  const ph = phone();
  before(async () => {
    t0 = new Date(Date.now() - 1000).toISOString();
    const specs = [
      { email: `${tag}.alice@example.com`, name: { first_name: "Alice", last_name: `Zed${tag}` } },
      { email: `${tag}.bob@example.com`, name: { first_name: "Bob", last_name: `Zed${tag}` }, phone_number: ph.spaced },
      { email: `${tag}.carol@example.org`, name: { first_name: "Carol", last_name: "Other" }, create_user_as_pending: true },
      { email: `${tag}.dave@example.org`, name: { first_name: "Dave", last_name: `Zed${tag}` }, create_user_as_pending: true },
      { email: `${tag}.erin@example.net`, name: { first_name: "Erin", last_name: "Other" } },
    ];
    for (const s of specs) users.push((await c.users.create(s)).user);
    t1 = new Date(Date.now() + 1000).toISOString();
  });

  const fuzzyTag = () => ({ filter_name: "email_address_fuzzy", filter_value: tag });
  const ids = (res) => res.results.map((u) => u.user_id).sort();
  const idsOf = (...idx) => idx.map((i) => users[i].user_id).sort();

  test("email_address exact (case-insensitive)", async () => {
    const res = await c.users.search({
      query: { operator: "AND", operands: [{ filter_name: "email_address", filter_value: [`${tag}.ALICE@example.com`] }] },
    });
    assert.equal(res.status_code, 200);
    assertRequestId(res);
    assert.deepEqual(ids(res), idsOf(0));
    assert.equal(res.results_metadata.total, 1);
    assert.ok(!res.results_metadata.next_cursor, "no next_cursor on the last page");
    assert.equal(res.results[0].emails[0].email, `${tag}.alice@example.com`);
  });

  test("email_address_fuzzy", async () => {
    const res = await c.users.search({ limit: 100, query: { operator: "AND", operands: [fuzzyTag()] } });
    assert.deepEqual(ids(res), idsOf(0, 1, 2, 3, 4));
    assert.equal(res.results_metadata.total, 5);
  });

  test("full_name_fuzzy AND status", async () => {
    const res = await c.users.search({
      limit: 100,
      query: {
        operator: "AND",
        operands: [
          { filter_name: "full_name_fuzzy", filter_value: `Zed${tag}` },
          { filter_name: "status", filter_value: "active" },
        ],
      },
    });
    assert.deepEqual(ids(res), idsOf(0, 1));
    assert.equal(res.results_metadata.total, 2);
  });

  test("status pending within the tag", async () => {
    const res = await c.users.search({
      limit: 100,
      query: { operator: "AND", operands: [fuzzyTag(), { filter_name: "status", filter_value: "pending" }] },
    });
    assert.deepEqual(ids(res), idsOf(2, 3));
    for (const u of res.results) assert.equal(u.status, "pending");
  });

  test("phone_number", async () => {
    const res = await c.users.search({
      query: { operator: "AND", operands: [{ filter_name: "phone_number", filter_value: [ph.e164] }] },
    });
    assert.deepEqual(ids(res), idsOf(1));
    assert.equal(res.results[0].phone_numbers[0].phone_number, ph.e164);
  });

  test("user_id", async () => {
    const res = await c.users.search({
      query: { operator: "AND", operands: [{ filter_name: "user_id", filter_value: [users[2].user_id, users[4].user_id] }] },
    });
    assert.deepEqual(ids(res), idsOf(2, 4));
  });

  test("created_at_between", async () => {
    const res = await c.users.search({
      limit: 100,
      query: {
        operator: "AND",
        operands: [fuzzyTag(), { filter_name: "created_at_between", filter_value: { greater_than: t0, less_than: t1 } }],
      },
    });
    assert.deepEqual(ids(res), idsOf(0, 1, 2, 3, 4));
    const none = await c.users.search({
      query: {
        operator: "AND",
        operands: [
          fuzzyTag(),
          { filter_name: "created_at_between", filter_value: { greater_than: "2001-01-01T00:00:00Z", less_than: "2002-01-01T00:00:00Z" } },
        ],
      },
    });
    assert.deepEqual(none.results, []);
    assert.equal(none.results_metadata.total, 0);
  });

  test("OR of two exact emails", async () => {
    const res = await c.users.search({
      query: {
        operator: "OR",
        operands: [
          { filter_name: "email_address", filter_value: [`${tag}.bob@example.com`] },
          { filter_name: "user_id", filter_value: [users[4].user_id] },
        ],
      },
    });
    assert.deepEqual(ids(res), idsOf(1, 4));
    assert.equal(res.results_metadata.total, 2);
  });

  test("limit 2 pages through with next_cursor", async () => {
    const query = { operator: "AND", operands: [fuzzyTag()] };
    const seen = [];
    let cursor;
    let pages = 0;
    do {
      const res = await c.users.search({ limit: 2, query, ...(cursor ? { cursor } : {}) });
      pages++;
      assert.equal(res.results_metadata.total, 5, "total counts every match, not the page");
      assert.ok(res.results.length <= 2);
      seen.push(...res.results.map((u) => u.user_id));
      cursor = res.results_metadata.next_cursor;
      if (pages < 3) assert.equal(typeof cursor, "string", `page ${pages} has a next_cursor`);
      assert.ok(pages <= 3, "no more than 3 pages");
    } while (cursor);
    assert.equal(pages, 3);
    assert.deepEqual([...seen].sort(), idsOf(0, 1, 2, 3, 4));
    assert.equal(new Set(seen).size, 5, "no user repeated across pages");
  });

  test("searchAll iterator", async () => {
    assert.equal(typeof c.users.searchAll, "function");
    const it = c.users.searchAll({ limit: 2, query: { operator: "AND", operands: [fuzzyTag()] } });
    const seen = [];
    let pages = 0;
    for await (const page of it) {
      pages++;
      seen.push(...page.map((u) => u.user_id));
      assert.ok(pages <= 3);
    }
    assert.equal(pages, 3);
    assert.deepEqual(seen.sort(), idsOf(0, 1, 2, 3, 4));
  });

  test("unknown filter_name → 400", async () => {
    await expectStytchError(
      c.users.search({ query: { operator: "AND", operands: [{ filter_name: "shoe_size", filter_value: "9" }] } }),
      { error_type: /filter/, status_code: 400 },
    );
  });
});

describe("users.deleteEmail / deletePhoneNumber / delete", () => {
  test("deleteEmail and deletePhoneNumber remove the factor and return the user", async () => {
    const ph = phone();
    const created = await c.users.create({ email: uniqueEmail("delfactor"), phone_number: ph.e164 });
    const de = await c.users.deleteEmail({ email_id: created.email_id });
    assert.equal(de.status_code, 200);
    assertRequestId(de);
    assert.equal(de.user_id, created.user_id);
    assert.deepEqual(de.user.emails, []);
    assert.equal(de.user.phone_numbers.length, 1);

    const dp = await c.users.deletePhoneNumber({ phone_id: created.phone_id });
    assert.equal(dp.user_id, created.user_id);
    assert.deepEqual(dp.user.phone_numbers, []);

    const got = await c.users.get({ user_id: created.user_id });
    assert.deepEqual(got.emails, []);
    assert.deepEqual(got.phone_numbers, []);

    await expectStytchError(c.users.deleteEmail({ email_id: created.email_id }), {
      error_type: "email_not_found",
      status_code: 404,
    });
    await expectStytchError(c.users.deletePhoneNumber({ phone_id: created.phone_id }), {
      error_type: "phone_number_not_found",
      status_code: 404,
    });
  });

  test("delete then get → user_not_found", async () => {
    const created = await c.users.create({ email: uniqueEmail("delete") });
    const res = await c.users.delete({ user_id: created.user_id });
    assert.equal(res.status_code, 200);
    assertRequestId(res);
    assert.equal(res.user_id, created.user_id);
    await expectStytchError(c.users.get({ user_id: created.user_id }), { error_type: "user_not_found", status_code: 404 });
    await expectStytchError(c.users.delete({ user_id: created.user_id }), { error_type: "user_not_found", status_code: 404 });
  });
});

describe("users: password and TOTP factors", () => {
  const c = client();
  const search = (...operands) => c.users.search({ limit: 10, query: { operator: "AND", operands } });

  test("search filters password_exists, totp_id, totp_verified; deletePassword and deleteTOTP", async () => {
    const email = uniqueEmail("factors");
    const pw = await c.passwords.create({ email, password: "correct horse battery staple 9" });
    const totp = await c.totps.create({ user_id: pw.user_id });
    const mine = { filter_name: "user_id", filter_value: [pw.user_id] };

    const ids = (res) => res.results.map((u) => u.user_id);
    assert.deepEqual(ids(await search(mine, { filter_name: "password_exists", filter_value: true })), [pw.user_id]);
    assert.deepEqual(ids(await search(mine, { filter_name: "password_exists", filter_value: false })), []);
    assert.deepEqual(ids(await search({ filter_name: "totp_id", filter_value: [totp.totp_id] })), [pw.user_id]);
    assert.deepEqual(ids(await search(mine, { filter_name: "totp_verified", filter_value: false })), [pw.user_id]);
    assert.deepEqual(ids(await search(mine, { filter_name: "totp_verified", filter_value: true })), []);

    const afterTOTP = await c.users.deleteTOTP({ totp_id: totp.totp_id });
    assert.equal(afterTOTP.status_code, 200);
    assert.equal(afterTOTP.user_id, pw.user_id);
    assert.deepEqual(afterTOTP.user.totps, []);
    assert.deepEqual(ids(await search({ filter_name: "totp_id", filter_value: [totp.totp_id] })), []);
    await expectStytchError(c.users.deleteTOTP({ totp_id: totp.totp_id }), { status_code: 404, error_type: "totp_not_found" });

    const passwordID = pw.user.password.password_id;
    await expectStytchError(client(other).users.deletePassword({ password_id: passwordID }), { status_code: 404, error_type: "password_not_found" });
    const afterPW = await c.users.deletePassword({ password_id: passwordID });
    assert.equal(afterPW.user.password, null);
    assert.deepEqual(ids(await search(mine, { filter_name: "password_exists", filter_value: false })), [pw.user_id]);
    await expectStytchError(c.passwords.authenticate({ email, password: "correct horse battery staple 9" }), {
      status_code: 400,
      error_type: "no_user_password",
    });
    await expectStytchError(c.users.deletePassword({ password_id: passwordID }), { status_code: 404, error_type: "password_not_found" });
  });
});
