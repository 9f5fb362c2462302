import assert from "node:assert/strict";
import { MemoryBus } from "../adapters/bus/memory.ts";
import { TOPICS } from "../adapters/bus/port.ts";
import type { IncomingMessage } from "../adapters/bus/port.ts";
import { MemoryStore } from "../adapters/store/memory.ts";
import type { Report } from "../domain/alert.ts";
import { destination } from "../domain/geo.ts";
import { enrich } from "./enrich.ts";
import { createEnrichStage } from "./enrich.ts";
import { createLiveStage, deliverLocally } from "./live.ts";
import { LiveHub } from "./live_hub.ts";
import { AlertTracker } from "./alert_tracker.ts";
import { createSinkStage } from "./sink.ts";
import { setLogLevel } from "../log.ts";

setLogLevel("error");

const TLV = { lat: 32.0853, lng: 34.7818 };
const settings = { radiusM: 500, alertTtlMs: 600_000, dedupeRadiusM: 150, dedupeWindowMs: 300_000 };

function report(overrides: Partial<Report> = {}): Report {
  return {
    id: crypto.randomUUID(),
    type: "tow_truck",
    ...TLV,
    reporterId: "reporter",
    reportedAt: new Date().toISOString(),
    source: "api",
    ...overrides,
  };
}

async function until(check: () => boolean | Promise<boolean>, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!await check()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A bus + store + the enrich, sink and live stages, as the app wires them. */
async function pipeline(proximity?: MemoryStore["locations"]["near"], options: { live?: boolean } = {}) {
  const bus = new MemoryBus(3);
  const store = new MemoryStore(300_000);
  const hub = new LiveHub();
  const tracker = new AlertTracker();
  const near = proximity ?? store.locations.near.bind(store.locations);
  const stages = [
    createSinkStage({ bus, alerts: store.alerts }),
    ...(options.live === false ? [] : [createLiveStage({ bus, hub, tracker, instanceId: "test" })]),
    createEnrichStage({
      bus,
      proximity: { near },
      tracker,
      settings,
      deliver: (event) => deliverLocally({ hub, tracker }, event, Date.now()),
    }),
  ];
  for (const s of stages) await s.start();
  const frames: string[] = [];
  hub.subscribeAll({ send: (f) => (frames.push(new TextDecoder().decode(f)), true), close: () => {} });
  return {
    bus,
    store,
    hub,
    frames,
    stages,
    async stop() {
      for (const s of stages) await s.stop();
      for (const s of stages) await s.close();
    },
  };
}

Deno.test("enrich: the reporter is never notified of their own report", () => {
  const e = enrich(report(), { userIds: ["a", "reporter", "b"], distancesM: [10, 0, 20] }, settings, Date.now());
  assert.deepEqual(e.notifiedUserIds, ["a", "b"]);
  assert.deepEqual(e.distancesM, [10, 20]);
  assert.equal(e.notifiedCount, 2);
  assert.equal(Date.parse(e.expiresAt) - Date.parse(e.reportedAt), 600_000);
});

Deno.test("pipeline: fresh users nearby are notified; stale, far and the reporter are not", async () => {
  const p = await pipeline();
  const now = Date.now();
  const near = destination(TLV, 45, 300);
  const far = destination(TLV, 45, 700);
  await p.store.locations.upsertMany([
    { userId: "fresh", ...near, seenAt: now },
    { userId: "stale", ...near, seenAt: now - 301_000 },
    { userId: "far", ...far, seenAt: now },
    { userId: "reporter", ...TLV, seenAt: now },
  ]);
  const r = report();
  await p.bus.publish(TOPICS.rawAlerts, [{ key: "k", value: JSON.stringify(r) }]);
  await until(async () => (await p.store.alerts.notificationsFor("fresh", Date.now(), 10)).length === 1);
  const feed = await p.store.alerts.notificationsFor("fresh", Date.now(), 10);
  assert.equal(feed[0].alert.id, r.id);
  assert.equal(feed[0].distanceM, 300);
  for (const user of ["stale", "far", "reporter"]) {
    assert.deepEqual(await p.store.alerts.notificationsFor(user, Date.now(), 10), [], user);
  }
  assert.equal((await p.store.alerts.get(r.id, Date.now()))?.notifiedCount, 1);
  await p.stop();
});

Deno.test("pipeline: a redelivered raw alert makes one live alert and one live push", async () => {
  const p = await pipeline();
  const r = report();
  const value = JSON.stringify(r);
  await p.bus.publish(TOPICS.rawAlerts, [{ key: "k", value }]);
  await p.bus.publish(TOPICS.rawAlerts, [{ key: "k", value }]);
  await until(async () => await p.bus.pending("alertcircle-sink", TOPICS.enrichedAlerts) === 0 && p.frames.length > 0);
  await until(async () => await p.bus.pending("alertcircle-enrich", TOPICS.rawAlerts) === 0);
  await new Promise((r) => setTimeout(r, 50));
  const live = await p.store.alerts.live(Date.now(), { limit: 10 });
  assert.deepEqual(live.map((a) => a.id), [r.id]);
  assert.equal(p.frames.filter((f) => f.includes(r.id)).length, 1);
  await p.stop();
});

Deno.test("pipeline: the enriching instance's own clients get the alert from enrichment itself, once", async () => {
  // Without a live stage, only the enrich stage's own delivery can push it.
  const alone = await pipeline(undefined, { live: false });
  const r = report();
  await alone.bus.publish(TOPICS.rawAlerts, [{ key: "k", value: JSON.stringify(r) }]);
  await until(() => alone.frames.some((f) => f.includes(r.id)));
  await alone.stop();

  // With it, the copy that comes back through enriched_alerts is not pushed again.
  const both = await pipeline();
  const r2 = report();
  await both.bus.publish(TOPICS.rawAlerts, [{ key: "k", value: JSON.stringify(r2) }]);
  await until(async () =>
    await both.bus.pending(`alertcircle-live-test`, TOPICS.enrichedAlerts) === 0 && both.frames.length > 0
  );
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(both.frames.filter((f) => f.includes(r2.id)).length, 1);
  await both.stop();
});

Deno.test("pipeline: an undecodable message goes to the dead-letter topic with its reason, and the rest flow on", async () => {
  const p = await pipeline();
  const dead: IncomingMessage[] = [];
  const dlq = await p.bus.subscribe({
    groupId: "dlq-reader",
    topic: TOPICS.deadLetters,
    fromBeginning: true,
    handleBatch: (b) => (dead.push(...b.messages), Promise.resolve()),
  });
  const good = report();
  await p.bus.publish(TOPICS.rawAlerts, [
    { key: "k", value: "{not json" },
    { key: "k", value: JSON.stringify({ ...report(), lat: 123 }) },
    { key: "k", value: JSON.stringify(good) },
  ]);
  await until(() => dead.length === 2 && p.frames.some((f) => f.includes(good.id)));
  assert.match(dead[0].headers["x-error"], /not JSON/);
  assert.match(dead[1].headers["x-error"], /lat/);
  assert.equal(dead[0].headers["x-stage"], "enrich");
  await dlq.close();
  await p.stop();
});

Deno.test("pipeline: a failing proximity lookup is retried until it works, and nothing is lost", async () => {
  let failuresLeft = 3;
  const store = new MemoryStore(300_000);
  const flaky = (lat: number, lng: number, r: number, now: number) => {
    if (failuresLeft-- > 0) return Promise.reject(new Error("index unavailable"));
    return store.locations.near(lat, lng, r, now);
  };
  const p = await pipeline(flaky);
  const r = report();
  await p.bus.publish(TOPICS.rawAlerts, [{ key: "k", value: JSON.stringify(r) }]);
  await until(() => p.frames.some((f) => f.includes(r.id)), 5_000);
  assert.ok(p.stages[2].stats.retries >= 3);
  assert.equal(p.stages[2].stats.processed, 1);
  await p.stop();
});

Deno.test("live: alerts that already expired (an old backlog) are not pushed to anyone", async () => {
  const p = await pipeline();
  const old = report({ reportedAt: new Date(Date.now() - 700_000).toISOString() });
  const fresh = report();
  await p.bus.publish(TOPICS.rawAlerts, [{ key: "k", value: JSON.stringify(old) }, {
    key: "k",
    value: JSON.stringify(fresh),
  }]);
  await until(() => p.frames.some((f) => f.includes(fresh.id)));
  assert.ok(!p.frames.some((f) => f.includes(old.id)));
  await p.stop();
});
