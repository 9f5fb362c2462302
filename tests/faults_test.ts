/**
 * Faults injected into the real engines while reports keep coming, each on a server of
 * its own so the outage hurts nobody else:
 * - the Kafka broker stopped for 20 s: reports get 503 (never a false 202), and every
 *   202 is enriched once and archived once after the broker is back;
 * - the MongoDB wire-protocol server stopped and restarted: live pushes carry on, the
 *   sink retries with backoff and catches up, no alert missing from alerts_live;
 * - the S3 server unavailable: archiving retries and catches up, each alert archived
 *   once, and live pushes are not delayed by it.
 */

import assert from "node:assert/strict";
import { MongoClient } from "mongodb";
import { destination } from "../domain/geo.ts";
import * as ferretdb from "../scripts/services/ferretdb.ts";
import * as kafka from "../scripts/services/kafka.ts";
import * as s3 from "../scripts/services/s3.ts";
import { cacheDir, freePort } from "../scripts/services/service.ts";
import type { RunningService } from "../scripts/services/service.ts";
import { newUser, report } from "./support/app.ts";
import type { TestUser } from "./support/app.ts";
import { archivedRecords, waitFor } from "./support/full_mode.ts";
import { readTopic } from "./support/kcat.ts";
import { realServices, uniqueName } from "./support/services.ts";
import { startServiceProcess } from "./support/service_process.ts";
import { SseClient } from "./support/sse.ts";

const TLV = { lat: 32.0853, lng: 34.7818 };

/** Posts a report every `everyMs` (not waiting for answers) until stopped; remembers what came back. */
function poster(url: string, user: TestUser, everyMs: number) {
  const outcomes: Array<{ status: number; id?: string; sentAt: number; token: string }> = [];
  const inflight: Promise<void>[] = [];
  let i = 0;
  const timer = setInterval(() => {
    const n = i++;
    const token = `f${n}`;
    const sentAt = performance.now();
    inflight.push(
      report(url, user, { type: "police", ...destination(TLV, 30, n * 200), note: token })
        .then(async (res) => {
          const body = await res.json().catch(() => ({}));
          outcomes.push({ status: res.status, id: res.status === 202 ? body.id : undefined, sentAt, token });
        })
        .catch(() => {
          outcomes.push({ status: 0, sentAt, token });
        }),
    );
  }, everyMs);
  return {
    outcomes,
    async stop() {
      clearInterval(timer);
      await Promise.all(inflight);
    },
    accepted: () => outcomes.filter((o) => o.status === 202).map((o) => o.id!),
  };
}

async function localArchiveIds(dataDir: string): Promise<string[]> {
  const ids: string[] = [];
  const walk = async (dir: string) => {
    for await (const e of Deno.readDir(dir)) {
      if (e.isDirectory) await walk(`${dir}/${e.name}`);
      else if (e.name.endsWith(".jsonl")) {
        for (const line of (await Deno.readTextFile(`${dir}/${e.name}`)).trim().split("\n")) {
          ids.push(JSON.parse(line).id);
        }
      }
    }
  };
  await walk(`${dataDir}/archive`).catch(() => {});
  return ids;
}

/** Milliseconds from each POST to its alert on the map stream, sorted. */
async function pushDelays(map: SseClient, sent: Array<{ id?: string; sentAt: number }>): Promise<number[]> {
  const delays: number[] = [];
  for (const o of sent) {
    if (!o.id) continue;
    const e = await map.waitFor((e) => e.id === o.id, 10_000);
    delays.push(e.receivedAt - o.sentAt);
  }
  return delays.sort((a, b) => a - b);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const sorted = (xs: string[]) => [...xs].sort();

Deno.test({
  name: "fault: Kafka stopped for 20 s — 503 instead of 202 while down; every 202 enriched once and archived once",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "fault-kafka-" });
    const port = freePort();
    let broker: RunningService = await kafka.start({ cacheDir: cacheDir(), dataDir: dir, port });
    const prefix = `${uniqueName("kdown")}.`;
    const svc = await startServiceProcess({
      KAFKA_BROKERS: `127.0.0.1:${port}`,
      KAFKA_TOPIC_PREFIX: prefix,
      ARCHIVE_FLUSH_S: "1",
      INSTANCE_ID: "fault-kafka",
    }, 60_000);
    try {
      const user = await newUser(svc.url);
      const posts = poster(svc.url, user, 250);
      await sleep(3_000);
      await broker.stop();
      await sleep(10_000);
      const midOutage = await fetch(`${svc.url}/readyz`);
      const ready = await midOutage.json();
      assert.equal(midOutage.status, 503, "not ready while the broker is down");
      assert.equal(ready.bus.ok, false);
      await sleep(10_000);
      broker = await kafka.start({ cacheDir: cacheDir(), dataDir: dir, port });
      await sleep(8_000);
      await posts.stop();

      const statuses = new Set(posts.outcomes.map((o) => o.status));
      assert.deepEqual([...statuses].sort(), [202, 503], `statuses seen: ${[...statuses]}`);
      const accepted = posts.accepted();
      console.log(
        `${posts.outcomes.length} reports: ${accepted.length} accepted (202), ${
          posts.outcomes.length - accepted.length
        } refused (503)`,
      );

      const refused = posts.outcomes.length - accepted.length;
      // Every 202 exactly once. A 503 says the report was not confirmed in time, not that it
      // was not written: a send kafkajs still held can reach the broker once it is back.
      // Such a report is then handled once like any other — never twice, and never more of
      // them than were refused.
      const once = (ids: string[], what: string) => {
        const seen = new Map<string, number>();
        for (const id of ids) seen.set(id, (seen.get(id) ?? 0) + 1);
        assert.deepEqual(accepted.filter((id) => seen.get(id) !== 1), [], `each 202 ${what} exactly once`);
        assert.deepEqual([...seen].filter(([, n]) => n > 1), [], `nothing ${what} twice`);
        const late = [...seen.keys()].filter((id) => !accepted.includes(id));
        assert.ok(late.length <= refused, `${late.length} ${what} without a 202, more than the ${refused} refused`);
        if (late.length > 0) {
          console.log(`${late.length} refused reports reached the broker late and were ${what} once`);
        }
      };
      await waitFor("every accepted report enriched", async () => {
        const enriched = await readTopic(`127.0.0.1:${port}`, `${prefix}enriched_alerts`);
        const ids = enriched.map((m) => JSON.parse(m.payload!).id);
        return accepted.every((id) => ids.includes(id)) ? ids : undefined;
      }, 90_000).then((ids) => once(ids, "enriched"));
      await waitFor("every accepted report archived", async () => {
        const ids = await localArchiveIds(svc.dataDir);
        return accepted.every((id) => ids.includes(id)) ? ids : undefined;
      }, 60_000).then((ids) => once(ids, "archived"));
    } finally {
      await svc.stop("SIGTERM");
      await broker.stop();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});

Deno.test({
  name:
    "fault: the MongoDB-protocol server stopped and restarted — pushes carry on, the sink retries and nothing is missing",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "fault-mongo-" });
    const port = freePort();
    let db: RunningService = await ferretdb.start({ cacheDir: cacheDir(), dataDir: dir, port });
    const name = uniqueName("mdown");
    const database = name.replace(/[^A-Za-z0-9_]/g, "_");
    const svc = await startServiceProcess({
      KAFKA_BROKERS: realServices().kafkaBrokers,
      KAFKA_TOPIC_PREFIX: `${name}.`,
      MONGODB_URI: `mongodb://127.0.0.1:${port}/`,
      MONGODB_DATABASE: database,
      INSTANCE_ID: "fault-mongo",
    }, 60_000);
    const map = await SseClient.connect(`${svc.url}/api/stream`);
    try {
      const user = await newUser(svc.url);
      const posts = poster(svc.url, user, 200);
      await sleep(3_000);
      await db.stop();
      const downFrom = performance.now();
      await sleep(10_000);
      const downUntil = performance.now();
      db = await ferretdb.start({ cacheDir: cacheDir(), dataDir: dir, port });
      await sleep(4_000);
      await posts.stop();
      const accepted = posts.accepted();
      assert.equal(accepted.length, posts.outcomes.length, "Kafka took every report: all 202");

      // Live pushes during the outage were as quick as ever.
      const delays = await pushDelays(map, posts.outcomes.filter((o) => o.sentAt > downFrom && o.sentAt < downUntil));
      assert.ok(delays.length > 20, "reports kept flowing to the map during the outage");
      assert.ok(
        delays[Math.floor(delays.length * 0.95)] < 1_000,
        `push p95 ${delays[Math.floor(delays.length * 0.95)]} ms`,
      );
      console.log(
        `database down 10 s: ${accepted.length} reports accepted; ${delays.length} during the outage, pushed in p50 ${
          delays[Math.floor(delays.length / 2)].toFixed(0)
        } ms, p95 ${delays[Math.floor(delays.length * 0.95)].toFixed(0)} ms`,
      );

      const stats = await (await fetch(`${svc.url}/api/stats`)).json();
      const sink = stats.stages.find((s: { name: string }) => s.name === "sink");
      assert.ok(sink.retries > 0, "the sink retried while the database was down");

      const mongo = new MongoClient(`mongodb://127.0.0.1:${port}/`);
      try {
        await waitFor("every alert in alerts_live", async () => {
          const n = await mongo.db(database).collection("alerts_live").countDocuments({});
          return n >= accepted.length ? n : undefined;
        }, 60_000);
        const docs = await mongo.db(database).collection("alerts_live").find({}, { projection: { _id: 1 } }).toArray();
        assert.deepEqual(sorted(docs.map((d) => String(d._id))), sorted(accepted));
        console.log(`database back: all ${docs.length} alerts in alerts_live, sink retried ${sink.retries} times`);
      } finally {
        await mongo.close();
      }
    } finally {
      await map.close();
      await svc.stop("SIGTERM");
      await db.stop();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});

Deno.test({
  name: "fault: the S3 server unavailable — archiving retries and catches up, each alert once, pushes not delayed",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "fault-s3-" });
    const port = freePort();
    let store: RunningService = await s3.start({ cacheDir: cacheDir(), dataDir: dir, port });
    const name = uniqueName("s3down");
    const svc = await startServiceProcess({
      KAFKA_BROKERS: realServices().kafkaBrokers,
      KAFKA_TOPIC_PREFIX: `${name}.`,
      ...store.env,
      S3_PREFIX: `${name}/enriched-alerts`,
      ARCHIVE_FLUSH_S: "1",
      INSTANCE_ID: "fault-s3",
    }, 60_000);
    const map = await SseClient.connect(`${svc.url}/api/stream`);
    try {
      const user = await newUser(svc.url);
      const posts = poster(svc.url, user, 200);
      await sleep(2_000);
      await store.stop();
      const downFrom = performance.now();
      await sleep(10_000);
      const downUntil = performance.now();
      store = await s3.start({ cacheDir: cacheDir(), dataDir: dir, port });
      await sleep(3_000);
      await posts.stop();
      const accepted = posts.accepted();
      assert.equal(accepted.length, posts.outcomes.length);
      const delays = await pushDelays(map, posts.outcomes.filter((o) => o.sentAt > downFrom && o.sentAt < downUntil));
      assert.ok(delays.length > 30, "alerts kept reaching the map while S3 was down");
      assert.ok(
        delays[Math.floor(delays.length * 0.95)] < 1_000,
        `push p95 ${delays[Math.floor(delays.length * 0.95)]} ms`,
      );
      console.log(
        `S3 down 10 s: ${accepted.length} reports accepted; ${delays.length} during the outage, pushed in p50 ${
          delays[Math.floor(delays.length / 2)].toFixed(0)
        } ms, p95 ${delays[Math.floor(delays.length * 0.95)].toFixed(0)} ms`,
      );
      const stats = await (await fetch(`${svc.url}/api/stats`)).json();
      const archive = stats.stages.find((s: { name: string }) => s.name === "archive");
      assert.ok(archive.retries > 0, "the archive retried while S3 was down");

      const original = realServices();
      Deno.env.set("TEST_S3_ENDPOINT", store.env.S3_ENDPOINT); // read back from this test's server
      try {
        const records = await waitFor("everything archived", async () => {
          const r = await archivedRecords(`${name}/enriched-alerts/`);
          return r.length >= accepted.length ? r : undefined;
        }, 60_000);
        assert.deepEqual(sorted(records.map((r) => r.id)), sorted(accepted), "each alert archived exactly once");
      } finally {
        Deno.env.set("TEST_S3_ENDPOINT", original.s3.endpoint);
      }
    } finally {
      await map.close();
      await svc.stop("SIGTERM");
      await store.stop();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});
