// Rate limits as the SDK sees them: 429 too_many_requests, with retry_after
// in the body and a Retry-After header. The "limited" project allows three
// sends per recipient an hour (set with `latch projects update --rate-limits`).

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { base, limited, client, expectStytchError } from "../lib/helpers.mjs";

const c = client(limited);

describe("rate limits", () => {
  test("a fourth send to one recipient is refused with 429 too_many_requests", async () => {
    for (let i = 0; i < 3; i++) {
      const res = await c.otps.sms.loginOrCreate({ phone_number: "+14155550101" });
      assert.equal(res.status_code, 200);
    }
    const err = await expectStytchError(c.otps.sms.send({ phone_number: "+1 415 555 0101" }), { status_code: 429, error_type: "too_many_requests" });
    assert.match(err.error_message, /retry after \d+ seconds/);
    // Another recipient is unaffected.
    const other = await c.otps.sms.loginOrCreate({ phone_number: "+14155550102" });
    assert.equal(other.status_code, 200);
  });

  test("the raw answer carries retry_after and Retry-After", async () => {
    const auth = "Basic " + Buffer.from(`${limited.project_id}:${limited.secret}`).toString("base64");
    const res = await fetch(`${base}/v1/otps/sms/send`, {
      method: "POST",
      headers: { authorization: auth, "content-type": "application/json" },
      body: JSON.stringify({ phone_number: "+14155550101" }),
    });
    assert.equal(res.status, 429);
    const body = await res.json();
    assert.equal(body.error_type, "too_many_requests");
    assert.ok(Number.isInteger(body.retry_after) && body.retry_after > 0 && body.retry_after <= 1200, `retry_after ${body.retry_after}`);
    assert.equal(res.headers.get("retry-after"), String(body.retry_after));
  });
});
