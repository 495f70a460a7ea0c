// Shared helpers for the conformance tests. The fixture is written by run.mjs.

import assert from "node:assert/strict";
import crypto from "node:crypto";
import fs from "node:fs";
import stytch from "stytch";

const fixturePath = process.env.LATCH_SDKTEST_FIXTURE;
if (!fixturePath) {
  throw new Error("LATCH_SDKTEST_FIXTURE is not set: run the suite with `npm test` (node run.mjs)");
}

/** @type {{base_url: string, ca_file: string, data_dir: string, latch_bin: string,
 *          projects: Record<"main"|"other"|"live"|"limited", {project_id: string, secret: string, public_token: string, environment: string}>}} */
export const fixture = JSON.parse(fs.readFileSync(fixturePath, "utf8"));
export const base = fixture.base_url;
export const main = fixture.projects.main;
export const other = fixture.projects.other;
export const live = fixture.projects.live;
export const limited = fixture.projects.limited;

export const { StytchError } = stytch;

/** A stytch.Client for a project (or explicit credentials). */
export function client(project = main, overrides = {}) {
  return new stytch.Client({
    project_id: project.project_id,
    secret: project.secret,
    custom_base_url: base + "/",
    ...overrides,
  });
}

const runTag = crypto.randomBytes(4).toString("hex");

/** A fresh, unique lower-case email address. */
export function uniqueEmail(label = "user") {
  return `${label}.${runTag}${crypto.randomBytes(5).toString("hex")}@example.com`.toLowerCase();
}

/** A fresh, unique email with mixed case in the local part and domain. */
export function mixedCaseEmail(label = "Mixed") {
  const id = crypto.randomBytes(5).toString("hex");
  return { raw: `${label}.${runTag}${id}@Example.COM`, normalised: `${label}.${runTag}${id}@example.com`.toLowerCase() };
}

export const randomHex = (n = 6) => crypto.randomBytes(n).toString("hex");

export const ID = {
  user: /^user-test-[0-9a-f-]{36}$/,
  email: /^email-test-[0-9a-f-]{36}$/,
  phone: /^phone-number-test-[0-9a-f-]{36}$/,
  session: /^session-test-[0-9a-f-]{36}$/,
  request: /^request-id-test-[0-9a-f-]{36}$/,
  requestLive: /^request-id-live-[0-9a-f-]{36}$/,
};

export function assertRequestId(res, re = ID.request) {
  assert.match(res.request_id, re, `request_id ${res.request_id}`);
}

/**
 * Awaits `promise`, which must reject with a StytchError of the given
 * error_type and status_code. Returns the error.
 */
export async function expectStytchError(promise, { error_type, status_code, request_id = ID.request }) {
  // error_type may be a RegExp where Stytch's exact name is not documented.
  let err;
  try {
    const res = await promise;
    assert.fail(`expected StytchError ${error_type} (${status_code}), got success: ${JSON.stringify(res).slice(0, 500)}`);
  } catch (e) {
    if (e instanceof assert.AssertionError) throw e;
    err = e;
  }
  assert.ok(err instanceof StytchError, `expected StytchError, got ${err?.constructor?.name}: ${err?.message}`);
  if (error_type instanceof RegExp) assert.match(err.error_type, error_type, `error_type (message: ${err.error_message})`);
  else assert.equal(err.error_type, error_type, `error_type (message: ${err.error_message})`);
  assert.equal(err.status_code, status_code, `status_code for ${error_type}`);
  assert.equal(typeof err.error_message, "string");
  assert.ok(err.error_message.length > 0, "error_message is non-empty");
  if (request_id) assert.match(err.request_id ?? "", request_id, "request_id on the error");
  // Stytch's own error_url has had several shapes (.../errors/400, .../errors/400#type, ...); pin the stable part.
  assert.ok(
    String(err.error_url).startsWith(`https://stytch.com/docs/api/errors/${status_code}`),
    `error_url ${err.error_url}`,
  );
  return err;
}

/** Raw HTTPS request to Latch with Basic auth (the CA is trusted via NODE_EXTRA_CA_CERTS). */
export async function rawRequest(pathAndQuery, { project = main, method = "GET", body, redirect = "manual", auth = true } = {}) {
  const headers = {};
  if (auth) headers.Authorization = "Basic " + Buffer.from(`${project.project_id}:${project.secret}`).toString("base64");
  if (body !== undefined) headers["Content-Type"] = "application/json";
  return fetch(base + pathAndQuery, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    redirect,
  });
}

/** GET /v1/dev/outbox?to=ADDRESS; returns the parsed JSON body (asserting 200). */
export async function outbox(to, project = main) {
  const res = await rawRequest(`/v1/dev/outbox?to=${encodeURIComponent(to)}`, { project });
  const json = await res.json();
  assert.equal(res.status, 200, `dev outbox: ${JSON.stringify(json)}`);
  return json;
}

/**
 * Waits (bounded polling) until the dev outbox holds at least `count`
 * messages to `to`, and returns them newest first.
 */
export async function waitForMessages(to, { count = 1, project = main } = {}) {
  let last;
  for (let i = 0; i < 50; i++) {
    last = await outbox(to, project);
    if (last.messages.length >= count) return last.messages;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`dev outbox never held ${count} message(s) to ${to}: ${JSON.stringify(last)}`);
}

/** The newest message to `to`. */
export async function latestMessage(to, opts) {
  return (await waitForMessages(to, opts))[0];
}

/** Decodes a JWT without verifying it. */
export function decodeJwt(jwt) {
  const parts = jwt.split(".");
  assert.equal(parts.length, 3, "JWT has three parts");
  const dec = (s) => JSON.parse(Buffer.from(s, "base64url").toString("utf8"));
  return { header: dec(parts[0]), payload: dec(parts[1]), signature: parts[2] };
}

/** base64url(sha256(verifier)), the PKCE S256 code_challenge. */
export function pkceChallenge(verifier) {
  return crypto.createHash("sha256").update(verifier).digest("base64url");
}

export const DEFAULT_REDIRECT = "http://localhost:3000/authenticate";

export function isoWithin(value, lo, hi, what) {
  const t = Date.parse(value);
  assert.ok(!Number.isNaN(t), `${what} is a timestamp: ${value}`);
  assert.ok(t >= lo && t <= hi, `${what} ${value} within [${new Date(lo).toISOString()}, ${new Date(hi).toISOString()}]`);
}

/**
 * Signs a user in by email magic link (login_or_create, read the outbox,
 * authenticate) and returns the authenticate response.
 */
export async function signIn(c, email, extra = {}) {
  const sent = await c.magicLinks.email.loginOrCreate({ email });
  const msg = await latestMessage(email.toLowerCase());
  assert.ok(msg.token, "outbox message carries the token");
  const res = await c.magicLinks.authenticate({ token: msg.token, session_duration_minutes: 60, ...extra });
  return { ...res, sent, message: msg };
}

/** Runs the latch CLI against the running server's data dir; returns stdout. */
export async function latchCLI(...args) {
  const { execFile } = await import("node:child_process");
  return new Promise((resolve, reject) => {
    execFile(fixture.latch_bin, [...args, "--data-dir", fixture.data_dir], { timeout: 30_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`latch ${args.join(" ")}: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

/** RFC 4648 base32 (upper case, padding optional) to bytes. */
export function base32Decode(s) {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  const clean = s.replace(/=+$/, "").toUpperCase();
  let bits = 0;
  let value = 0;
  const out = [];
  for (const ch of clean) {
    const i = alphabet.indexOf(ch);
    if (i < 0) throw new Error(`not base32: ${ch}`);
    value = (value << 5) | i;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

export const TOTP_PERIOD_MS = 30_000;

/** RFC 6238 TOTP: HMAC-SHA-1, 6 digits, 30 s steps, at time ms. */
export function totp(secret, ms = Date.now()) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(ms / TOTP_PERIOD_MS)));
  const mac = crypto.createHmac("sha1", base32Decode(secret)).update(counter).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  const bin = mac.readUInt32BE(offset) & 0x7fffffff;
  return String(bin % 1_000_000).padStart(6, "0");
}
