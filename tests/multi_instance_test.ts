/**
 * Two copies of the service on one Kafka, one MongoDB-protocol server and one S3 bucket:
 * every alert is enriched once, stored once and archived once, yet reaches the SSE
 * clients of both instances; the minute job runs on one of them only.
 */

import assert from "node:assert/strict";
import { MongoClient } from "mongodb";
import { destination } from "../domain/geo.ts";
import { archivedRecords, waitFor } from "./support/full_mode.ts";
import { newUser, placeUser, report } from "./support/app.ts";
import { readTopic } from "./support/kcat.ts";
import { fullModeEnv, realServices, uniqueName } from "./support/services.ts";
import { startServiceProcess } from "./support/service_process.ts";
import { SseClient } from "./support/sse.ts";

const TLV = { lat: 32.0853, lng: 34.7818 };

Deno.test("two instances share the work: each alert enriched, stored and archived once, pushed by both", async () => {
  const name = uniqueName("pair");
  const env: Record<string, string> = {
    ...fullModeEnv(name),
    ARCHIVE_FLUSH_S: "1",
    SIMULATE: "on",
    SIM_USERS: "50",
    SIM_REPORT_INTERVAL_S: "3600",
  };
  const [a, b] = await Promise.all([
    startServiceProcess({ ...env, INSTANCE_ID: "pair-a" }, 60_000),
    startServiceProcess({ ...env, INSTANCE_ID: "pair-b" }, 60_000),
  ]);
  const mongo = new MongoClient(realServices().mongoUri);
  try {
    const mapA = await SseClient.connect(`${a.url}/api/stream`);
    const mapB = await SseClient.connect(`${b.url}/api/stream`);
    // A user registered through A is known to B's index too (via user_locations).
    // Identities issued by one instance hold on the other (they share AUTH_SECRET).
    const [shared, reporter] = [await newUser(a.url), await newUser(b.url)];
    await placeUser(a.url, shared, TLV);
    const userOnB = await SseClient.connect(`${b.url}/api/stream?userId=${shared.userId}`, shared.auth);
    await new Promise((r) => setTimeout(r, 500));

    const ids: string[] = [];
    for (let i = 0; i < 30; i++) {
      const target = i % 2 === 0 ? a : b;
      // Spread out and of different types, so no report repeats another.
      const type = ["police", "tow_truck", "bylaw_officer"][i % 3];
      const res = await report(target.url, reporter, { type, ...destination(TLV, i * 12, 300 + i * 60) });
      assert.equal(res.status, 202);
      ids.push((await res.json()).id);
    }
    for (const id of ids) {
      await mapA.waitFor((e) => e.id === id, 20_000);
      await mapB.waitFor((e) => e.id === id, 20_000);
    }
    // The first four fall within 500 m of the shared user (300, 360, 420, 480 m away).
    for (const id of ids.slice(0, 4)) await userOnB.waitFor((e) => e.id === id, 20_000);
    assert.equal(userOnB.events.filter((e) => e.event === "notification").length, 4);

    const enriched = await readTopic(realServices().kafkaBrokers, `${env.KAFKA_TOPIC_PREFIX}enriched_alerts`);
    const enrichedIds = enriched.map((m) => JSON.parse(m.payload!).id);
    assert.deepEqual([...enrichedIds].sort(), [...ids].sort(), "each alert enriched exactly once");

    const docs = await mongo.db(env.MONGODB_DATABASE).collection("alerts_live").countDocuments({});
    assert.equal(docs, ids.length);

    const archived = await waitFor("all alerts archived", async () => {
      const records = await archivedRecords(`${env.S3_PREFIX}/`);
      return records.length >= ids.length ? records : undefined;
    });
    assert.deepEqual(archived.map((r) => r.id).sort(), [...ids].sort(), "each alert archived exactly once");

    const [statsA, statsB] = await Promise.all(
      [a, b].map(async (s) => await (await fetch(`${s.url}/api/stats`)).json()),
    );
    const ran = [statsA, statsB].filter((s) => s.locationJob?.ran).length;
    assert.equal(ran, 1, "the minute job ran on exactly one instance (the lease holder)");
    assert.equal(statsA.activeUsers, 51);
    await Promise.all([mapA.close(), mapB.close(), userOnB.close()]);
  } finally {
    assert.equal(await a.stop("SIGTERM"), 0, a.output());
    assert.equal(await b.stop("SIGTERM"), 0, b.output());
    await mongo.close();
  }
});
