/**
 * End to end on the real engines: the service (main.ts as a child process) on Kafka,
 * the MongoDB wire protocol (FerretDB) and S3 (versitygw). A report reaches a nearby
 * user's SSE stream; the enriched message is read back from Kafka by kcat; the
 * document is in alerts_live; the archive object is listed and read back from S3.
 */

import assert from "node:assert/strict";
import { MongoClient } from "mongodb";
import { destination } from "../domain/geo.ts";
import { readTopic } from "./support/kcat.ts";
import { newUser, placeUser, report } from "./support/app.ts";
import { archivedRecords, waitFor } from "./support/full_mode.ts";
import { fullModeEnv, realServices, uniqueName } from "./support/services.ts";
import { startServiceProcess } from "./support/service_process.ts";
import { SseClient } from "./support/sse.ts";

const TLV = { lat: 32.0853, lng: 34.7818 };

Deno.test("full mode: Kafka + MongoDB protocol + S3, from POST to SSE, Kafka, alerts_live and the archive", async () => {
  const name = uniqueName("full");
  const env = fullModeEnv(name);
  const svc = await startServiceProcess({ ...env, ARCHIVE_FLUSH_S: "1", INSTANCE_ID: "full-a" }, 60_000);
  const mongo = new MongoClient(realServices().mongoUri);
  try {
    const ready = await (await fetch(`${svc.url}/readyz`)).json();
    assert.deepEqual([ready.bus.kind, ready.store.kind, ready.archive.kind], ["kafka", "mongo", "s3"]);

    const [near, reporter] = [await newUser(svc.url), await newUser(svc.url)];
    await placeUser(svc.url, near, destination(TLV, 10, 300));
    const stream = await SseClient.connect(`${svc.url}/api/stream?userId=${near.userId}`, near.auth);
    const res = await report(svc.url, reporter, { type: "tow_truck", ...TLV });
    assert.equal(res.status, 202);
    const { id } = await res.json();
    const event = await stream.waitFor((e) => e.event === "notification" && e.id === id, 15_000);
    assert.equal(JSON.parse(event.data).distanceM, 300);
    await stream.close();

    const enriched = await waitFor("the enriched message in Kafka", async () => {
      const messages = await readTopic(realServices().kafkaBrokers, `${env.KAFKA_TOPIC_PREFIX}enriched_alerts`);
      return messages.find((m) => m.payload?.includes(id));
    });
    const payload = JSON.parse(enriched.payload!);
    assert.deepEqual(payload.notifiedUserIds, [near.userId]);
    assert.match(enriched.key!, /^a\d+$/, "keyed by a coarse area cell");
    // The long-lived copy, which the archive reads, names nobody: not who was told, not the reporter.
    const record = await waitFor("the public record in Kafka", async () => {
      const messages = await readTopic(realServices().kafkaBrokers, `${env.KAFKA_TOPIC_PREFIX}public_alerts`);
      return messages.find((m) => m.payload?.includes(id));
    });
    assert.equal(JSON.parse(record.payload!).notifiedCount, 1);
    for (const u of [near, reporter]) assert.ok(!record.payload!.includes(u.userId));

    const doc = await waitFor(
      "the alerts_live document",
      async () =>
        await mongo.db(env.MONGODB_DATABASE).collection("alerts_live").findOne({ _id: id as unknown as never }) ??
          undefined,
    );
    assert.equal(doc.notifiedCount, 1);

    // The location reached the system of record too, written behind by the location sink…
    const locations = mongo.db(env.MONGODB_DATABASE).collection("latest_user_location");
    await waitFor(
      "the location in latest_user_location",
      async () => await locations.findOne({ _id: near.userId as never }) ?? undefined,
    );
    // …and forgetting the user removes it there at once.
    const forget = await fetch(`${svc.url}/api/locations/${near.userId}`, { method: "DELETE", headers: near.auth });
    assert.equal(forget.status, 204);
    assert.equal(await locations.findOne({ _id: near.userId as never }), null);

    const archived = await waitFor("the archive object in S3", async () => {
      const records = await archivedRecords(`${env.S3_PREFIX}/`);
      return records.find((r) => r.id === id);
    });
    // A report pairs its reporter's id with a place: once enriched it is deleted from
    // raw_alerts by the next sweep (every 10 s), not kept for the broker's retention.
    await waitFor("raw_alerts emptied of the enriched report", async () => {
      const reports = await readTopic(realServices().kafkaBrokers, `${env.KAFKA_TOPIC_PREFIX}raw_alerts`);
      return reports.length === 0 ? true : undefined;
    }, 25_000);
    assert.match(
      archived.key,
      new RegExp(`^${env.S3_PREFIX}/dt=\\d{4}-\\d{2}-\\d{2}/hour=\\d{2}/\\d+-\\d+-\\d+\\.jsonl$`),
    );
  } finally {
    assert.equal(await svc.stop("SIGTERM"), 0, svc.output());
    await mongo.close();
  }
});
