/**
 * Bad actors and busy neighbourhoods: rate limits answer 429 with Retry-After; a repeat
 * of a live alert joins it instead of notifying everyone again; people near an alert can
 * vote it gone; users' positions are not for everyone to see; the CSP holds; errors
 * never leak internals.
 */

import assert from "node:assert/strict";
import { destination } from "../domain/geo.ts";
import { newUser, placeUser, postJson, report, startTestApp } from "./support/app.ts";
import { SseClient } from "./support/sse.ts";

const TLV = { lat: 32.0853, lng: 34.7818 };

Deno.test("rate limits: reports per user, per address, location updates, new identities — 429 with Retry-After", async () => {
  const t = await startTestApp({
    RATE_REPORTS_PER_USER: "5/600",
    RATE_REPORTS_PER_ADDRESS: "8/600",
    RATE_LOCATIONS_PER_USER: "1/1",
    RATE_IDENTITIES_PER_ADDRESS: "4/3600",
  });
  try {
    const [a, b] = [await newUser(t.url), await newUser(t.url)];
    for (let i = 0; i < 5; i++) {
      assert.equal((await report(t.url, a, { type: "police", ...destination(TLV, 0, i * 400) })).status, 202);
    }
    const sixth = await report(t.url, a, { type: "police", ...destination(TLV, 90, 5_000) });
    assert.equal(sixth.status, 429);
    const retryAfter = Number(sixth.headers.get("retry-after"));
    assert.ok(retryAfter >= 1 && retryAfter <= 600, `Retry-After ${retryAfter}`);
    assert.equal((await sixth.json()).error, "rate_limited");
    // Another user still may, until the address has sent its 8.
    for (let i = 0; i < 2; i++) {
      assert.equal((await report(t.url, b, { type: "tow_truck", ...destination(TLV, 180, i * 400) })).status, 202);
    }
    const overAddress = await report(t.url, b, { type: "tow_truck", ...destination(TLV, 180, 2_000) });
    assert.equal(overAddress.status, 429);
    await overAddress.body?.cancel();

    assert.equal((await placeUser(t.url, a, TLV)).status, 200);
    const tooSoon = await placeUser(t.url, a, TLV);
    assert.equal(tooSoon.status, 429);
    assert.ok(Number(tooSoon.headers.get("retry-after")) >= 1);
    await tooSoon.body?.cancel();

    await newUser(t.url); // the 3rd and 4th identities from this address
    await newUser(t.url);
    const fifth = await fetch(`${t.url}/api/users`, { method: "POST" });
    assert.equal(fifth.status, 429);
    await fifth.body?.cancel();
  } finally {
    await t.close();
  }
});

Deno.test("repeats: the same sighting nearby joins the live alert, extends it, and notifies nobody again", async () => {
  const t = await startTestApp({ DEDUPE_RADIUS_M: "150", DEDUPE_WINDOW_S: "300" });
  try {
    const [watcher, first, second, third] = await Promise.all([1, 2, 3, 4].map(() => newUser(t.url)));
    await placeUser(t.url, watcher, destination(TLV, 0, 100));
    const feed = await SseClient.connect(`${t.url}/api/stream?userId=${watcher.userId}`, watcher.auth);
    const map = await SseClient.connect(`${t.url}/api/stream`);
    const original = (await (await report(t.url, first, { type: "tow_truck", ...TLV })).json()).id;
    const created = await map.waitFor((e) => e.id === original);
    const before = JSON.parse(created.data);
    await new Promise((r) => setTimeout(r, 20));
    // 120 m away, same type: joins. Another type there, or the same type 400 m away: new alerts.
    const repeat = (await (await report(t.url, second, { type: "tow_truck", ...destination(TLV, 90, 120) })).json()).id;
    const otherType = (await (await report(t.url, third, { type: "police", ...destination(TLV, 90, 120) })).json()).id;
    const farther =
      (await (await report(t.url, third, { type: "tow_truck", ...destination(TLV, 270, 400) })).json()).id;
    await map.waitFor((e) => e.id === otherType);
    await map.waitFor((e) => e.id === farther);
    const updated = await map.waitFor((e) => e.id === original && JSON.parse(e.data).confirmations === 1);
    const after = JSON.parse(updated.data);
    assert.ok(after.expiresAt > before.expiresAt, "a confirmation extends the alert's life");
    await feed.waitFor((e) => e.id === farther);
    const notified = feed.events.filter((e) => e.event === "notification").map((e) => e.id);
    assert.deepEqual(notified.sort(), [original, otherType, farther].sort(), "the repeat told the watcher nothing");
    assert.ok(!map.events.some((e) => e.id === repeat), "the repeat is no alert of its own");
    const stored = await (await fetch(`${t.url}/api/alerts/${original}`)).json();
    assert.equal(stored.confirmations, 1);
    await Promise.all([feed.close(), map.close()]);
  } finally {
    await t.close();
  }
});

Deno.test("gone votes: only people near an alert, once each; enough of them end it everywhere", async () => {
  const t = await startTestApp({ GONE_VOTES_TO_END: "3" });
  try {
    const users = await Promise.all([1, 2, 3, 4, 5].map(() => newUser(t.url)));
    const [reporter, v1, v2, v3, far] = users;
    for (const [i, v] of [v1, v2, v3].entries()) await placeUser(t.url, v, destination(TLV, i * 120, 200));
    await placeUser(t.url, far, destination(TLV, 0, 2_000));
    const map = await SseClient.connect(`${t.url}/api/stream`);
    const id = (await (await report(t.url, reporter, { type: "parking_inspector", ...TLV })).json()).id;
    await map.waitFor((e) => e.id === id);
    const vote = (u: typeof v1) => postJson(`${t.url}/api/alerts/${id}/gone`, {}, u.auth);

    const tooFar = await vote(far);
    assert.equal(tooFar.status, 403);
    assert.match((await tooFar.json()).message, /within 500 m/);
    const nowhere = await vote(reporter); // the reporter shared no location
    assert.equal(nowhere.status, 403);
    await nowhere.body?.cancel();
    const anonymous = await postJson(`${t.url}/api/alerts/${id}/gone`, {});
    assert.equal(anonymous.status, 401);
    await anonymous.body?.cancel();

    assert.deepEqual(await (await vote(v1)).json(), { votes: 1, needed: 3, ended: false, counted: true });
    assert.deepEqual(await (await vote(v1)).json(), { votes: 1, needed: 3, ended: false, counted: false }, "once each");
    assert.equal((await (await vote(v2)).json()).ended, false);
    assert.equal((await (await vote(v3)).json()).ended, true);
    await map.waitFor((e) => e.event === "ended" && JSON.parse(e.data).id === id);
    // Ended means gone from the list and the alert endpoint, at once.
    const deadline = Date.now() + 2_000;
    while ((await (await fetch(`${t.url}/api/alerts`)).json()).count > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal((await (await fetch(`${t.url}/api/alerts`)).json()).count, 0);
    const afterwards = await vote(v1);
    assert.equal(afterwards.status, 404);
    await afterwards.body?.cancel();
    await map.close();
  } finally {
    await t.close();
  }
});

Deno.test("positions of real users are for operators only; the demo shows its simulated people", async () => {
  const admin = "operator-token-0123456789";
  const t = await startTestApp({ ADMIN_TOKEN: admin, SIMULATE: "off" });
  try {
    const u = await newUser(t.url);
    await placeUser(t.url, u, TLV);
    const denied = await fetch(`${t.url}/api/locations`);
    assert.equal(denied.status, 403);
    await denied.body?.cancel();
    const asUser = await fetch(`${t.url}/api/locations`, { headers: u.auth });
    assert.equal(asUser.status, 403);
    await asUser.body?.cancel();
    const operator = await (await fetch(`${t.url}/api/locations`, { headers: { authorization: `Bearer ${admin}` } }))
      .json();
    assert.deepEqual(operator.users.map((x: { userId: string }) => x.userId), [u.userId]);
  } finally {
    await t.close();
  }
  const demo = await startTestApp({ SIMULATE: "on", SIM_USERS: "20", SIM_REPORT_INTERVAL_S: "3600" });
  try {
    const u = await newUser(demo.url);
    await placeUser(demo.url, u, TLV);
    let users: Array<{ userId: string }> = [];
    for (let i = 0; i < 50 && users.length < 20; i++) {
      users = (await (await fetch(`${demo.url}/api/locations`)).json()).users;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(users.length, 20);
    assert.ok(users.every((x) => x.userId.startsWith("sim-")), "real users never appear on the demo map");
    // In the demo anyone may watch a simulated user's feed.
    assert.equal((await fetch(`${demo.url}/api/users/sim-00003/notifications`)).status, 200);
  } finally {
    await demo.close();
  }
});

Deno.test("security headers: the CSP allows our origin and the tile host only; errors carry no internals", async () => {
  const t = await startTestApp({ TILE_URL: "https://{s}.tiles.example.org/{z}/{x}/{y}.png" });
  try {
    const page = await fetch(t.url);
    const csp = page.headers.get("content-security-policy") ?? "";
    await page.body?.cancel();
    assert.match(csp, /default-src 'self'/);
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.match(csp, /img-src 'self' data: https:\/\/\*\.tiles\.example\.org/);
    assert.match(csp, /connect-src 'self'/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.ok(!csp.includes("unsafe-inline") && !csp.includes("unsafe-eval"));
    assert.equal(page.headers.get("x-content-type-options"), "nosniff");
    assert.equal(page.headers.get("cache-control"), "private, no-store");

    // An internal failure: the store breaks under the request.
    const alerts = t.app.ctx.store.alerts;
    const original = alerts.live.bind(alerts);
    alerts.live = () => Promise.reject(new Error("connect ECONNREFUSED 10.1.2.3:27017 at /srv/secret/path.ts:42"));
    const res = await fetch(`${t.url}/api/alerts`);
    assert.equal(res.status, 500);
    const text = await res.text();
    assert.ok(!/ECONNREFUSED|10\.1\.2\.3|\/srv\/|\.ts:|\bat\b.*\(/.test(text), text);
    assert.equal(JSON.parse(text).error, "internal");
    alerts.live = original;
  } finally {
    await t.close();
  }
});
