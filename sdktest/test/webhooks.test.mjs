// Webhooks end to end: an operator registers an endpoint with the CLI while
// the server runs; SDK calls that change state are delivered to a receiver
// that verifies both signature schemes itself (Standard Webhooks / Svix,
// and stytch-signature), in order, each event once.

import assert from "node:assert/strict";
import crypto from "node:crypto";
import http from "node:http";
import { once } from "node:events";
import { describe, test, before, after } from "node:test";
import { main, client, uniqueEmail, latchCLI } from "../lib/helpers.mjs";

const c = client();

function verify(secret, headers, raw) {
  const key = Buffer.from(secret.replace(/^whsec_/, ""), "base64");
  const id = headers["webhook-id"];
  const ts = headers["webhook-timestamp"];
  assert.equal(headers["svix-id"], id);
  assert.equal(headers["svix-timestamp"], ts);
  assert.ok(Math.abs(Date.now() / 1000 - Number(ts)) < 300, "timestamp is recent");
  const expected = crypto.createHmac("sha256", key).update(`${id}.${ts}.${raw}`).digest("base64");
  const sigs = headers["webhook-signature"].split(" ").map((s) => s.split(",")[1]);
  assert.ok(sigs.includes(expected), "webhook-signature verifies");
  assert.equal(headers["svix-signature"], headers["webhook-signature"]);
  const hex = crypto.createHmac("sha256", key).update(raw).digest("hex");
  assert.equal(headers["stytch-signature"], hex, "stytch-signature verifies");
}

describe("webhooks", () => {
  let receiver;
  let hook;
  const got = [];
  let waiters = [];

  before(async () => {
    receiver = http.createServer(async (req, res) => {
      let raw = "";
      for await (const chunk of req) raw += chunk;
      got.push({ headers: req.headers, raw, body: JSON.parse(raw) });
      res.writeHead(204).end();
      waiters = waiters.filter((w) => !w());
    });
    receiver.listen(0, "127.0.0.1");
    await once(receiver, "listening");
    const url = `http://127.0.0.1:${receiver.address().port}/stytch`;
    hook = JSON.parse(
      await latchCLI("webhooks", "create", "--project", main.project_id, "--url", url, "--events", "direct.user.create,direct.user.update,direct.user.delete", "--json"),
    );
    assert.match(hook.webhook_id, /^webhook-test-/);
    assert.match(hook.secret, /^whsec_/);
  });

  after(() => receiver.close());

  // Resolves once the receiver holds n events about userID (no sleeping:
  // the receiver wakes the waiter).
  function eventsFor(userID, n) {
    const mine = () => got.filter((g) => g.body.id === userID);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`only ${mine().length} of ${n} events for ${userID}`)), 20_000);
      const check = () => {
        if (mine().length >= n) {
          clearTimeout(timer);
          resolve(mine());
          return true;
        }
        return false;
      };
      if (!check()) waiters.push(check);
    });
  }

  test("users.create, update and delete arrive signed, in order, with Stytch's payload", async () => {
    const email = uniqueEmail("hook");
    const created = await c.users.create({ email, name: { first_name: "Ada" } });
    await c.users.update({ user_id: created.user_id, name: { first_name: "Ada", last_name: "Lovelace" } });
    await c.users.delete({ user_id: created.user_id });
    const evs = await eventsFor(created.user_id, 3);
    for (const e of evs) verify(hook.secret, e.headers, e.raw);
    assert.deepEqual(evs.map((e) => `${e.body.source}.${e.body.object_type}.${e.body.action}`), ["DIRECT.user.CREATE", "DIRECT.user.UPDATE", "DIRECT.user.DELETE"]);
    const [create, update, del] = evs.map((e) => e.body);
    assert.equal(create.project_id, main.project_id);
    assert.equal(create.vertical, "CONSUMER");
    assert.match(create.event_id, /^webhook-event-test-/);
    assert.equal(evs[0].headers["webhook-id"], create.event_id);
    assert.equal(create.user.user_id, created.user_id);
    assert.equal(create.user.emails[0].email, email);
    assert.equal(update.user.name.last_name, "Lovelace");
    assert.equal(del.user, undefined, "a delete carries no object");
    assert.ok(Date.parse(create.timestamp) <= Date.parse(update.timestamp));
    assert.equal(new Set(evs.map((e) => e.body.event_id)).size, 3);
  });

  test("deliveries are visible with the CLI, and replay sends the same event id again", async () => {
    const created = await c.users.create({ email: uniqueEmail("replay") });
    const [first] = await eventsFor(created.user_id, 1);
    const list = JSON.parse(await latchCLI("webhooks", "deliveries", "--project", main.project_id, "--webhook", hook.webhook_id, "--json"));
    const row = list.deliveries.find((d) => d.event_id === first.body.event_id);
    assert.equal(row.status, "delivered");
    await latchCLI("webhooks", "replay", "--project", main.project_id, "--event", first.body.event_id, "--webhook", hook.webhook_id, "--json");
    const again = await eventsFor(created.user_id, 2);
    assert.equal(again[1].body.event_id, first.body.event_id, "same event id: receivers can dedupe");
    verify(hook.secret, again[1].headers, again[1].raw);
  });
});
