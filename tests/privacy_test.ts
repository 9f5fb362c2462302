/**
 * Privacy by default, end to end through main.ts: no location outlives LOCATION_TTL_S
 * (in memory, and on the real engines in Kafka and MongoDB), and no user's id or
 * position is written anywhere else — not in the logs (even at debug level), not in
 * the archive, not in any response to another user.
 */

import assert from "node:assert/strict";
import { destination } from "../domain/geo.ts";
import { MongoClient } from "mongodb";
import { newUser, placeUser, report } from "./support/app.ts";
import { waitFor } from "./support/full_mode.ts";
import { readTopic } from "./support/kcat.ts";
import { fullModeEnv, realServices, uniqueName } from "./support/services.ts";
import { startServiceProcess } from "./support/service_process.ts";
import { SseClient } from "./support/sse.ts";

async function archiveText(dataDir: string): Promise<string> {
  let text = "";
  const walk = async (dir: string) => {
    for await (const e of Deno.readDir(dir)) {
      if (e.isDirectory) await walk(`${dir}/${e.name}`);
      else if (e.name.endsWith(".jsonl")) text += await Deno.readTextFile(`${dir}/${e.name}`);
    }
  };
  await walk(`${dataDir}/archive`).catch(() => {});
  return text;
}

Deno.test("privacy: locations expire after their TTL; no ids or positions in logs, archive or others' responses", async () => {
  const admin = "privacy-admin-token-123456";
  const svc = await startServiceProcess({
    LOCATION_TTL_S: "10",
    ARCHIVE_FLUSH_S: "1",
    LOG_LEVEL: "debug",
    ADMIN_TOKEN: admin,
  });
  try {
    const [alice, bob] = [await newUser(svc.url), await newUser(svc.url)];
    // Distinctive coordinates, to search for afterwards.
    const home = { lat: 32.0812345, lng: 34.7812345 };
    assert.equal((await placeUser(svc.url, alice, home)).status, 200);
    const map = await SseClient.connect(`${svc.url}/api/stream`);
    const sighting = destination(home, 45, 200);
    const { id } = await (await report(svc.url, bob, { type: "police", ...sighting })).json();
    const alert = JSON.parse((await map.waitFor((e) => e.id === id)).data);
    assert.equal(alert.notifiedCount, 1);

    // What other people can see: counts, never who or where.
    const seenByBob = [
      await (await fetch(`${svc.url}/api/alerts`, { headers: bob.auth })).text(),
      await (await fetch(`${svc.url}/api/alerts/${id}`, { headers: bob.auth })).text(),
      await (await fetch(`${svc.url}/api/stats`)).text(),
      (await map.waitFor((e) => e.id === id)).data,
    ].join("\n");
    assert.ok(!seenByBob.includes(alice.userId), "alice's id reaches nobody else");
    assert.ok(!seenByBob.includes("32.08123") && !seenByBob.includes("34.78123"), "nor her position");
    const locations = await fetch(`${svc.url}/api/locations`, { headers: bob.auth });
    assert.equal(locations.status, 403, "no positions without the operator token");
    await locations.body?.cancel();

    // The archive keeps the alert and a count: no user ids, no user positions.
    await new Promise((r) => setTimeout(r, 2_500));
    const archived = await archiveText(svc.dataDir);
    assert.ok(archived.includes(id), "the alert is archived");
    for (const secret of [alice.userId, bob.userId, "32.08123", "34.78123"]) {
      assert.ok(!archived.includes(secret), secret);
    }

    // After the TTL the location is gone: not listed, not counted, not notified.
    await new Promise((r) => setTimeout(r, 11_000));
    const operatorView =
      await (await fetch(`${svc.url}/api/locations`, { headers: { authorization: `Bearer ${admin}` } })).json();
    assert.deepEqual(operatorView.users, []);
    const stats = await (await fetch(`${svc.url}/api/stats`)).json();
    assert.equal(stats.activeUsers, 0);
    const later = (await (await report(svc.url, bob, { type: "tow_truck", ...sighting })).json()).id;
    assert.equal(JSON.parse((await map.waitFor((e) => e.id === later)).data).notifiedCount, 0);
    // The sweeper (every 10 s) has reclaimed it from memory too, not just hidden it.
    for (
      let waited = 0;
      waited < 12_000 && (await (await fetch(`${svc.url}/api/stats`)).json()).proximityIndexUsers > 0;
      waited += 500
    ) {
      await new Promise((r) => setTimeout(r, 500));
    }
    assert.equal((await (await fetch(`${svc.url}/api/stats`)).json()).proximityIndexUsers, 0);
    await map.close();
  } finally {
    assert.equal(await svc.stop("SIGTERM"), 0);
    const logs = svc.output();
    assert.ok(logs.includes('"level":"debug"'), "debug logging was on");
    assert.ok(!logs.includes("32.08123") && !logs.includes("34.78123"), "no positions in the logs");
    await Deno.remove(svc.dataDir, { recursive: true });
  }
});

Deno.test("privacy on the real engines: a location is gone from Kafka and MongoDB soon after its TTL", async () => {
  const name = uniqueName("privacy");
  const env: Record<string, string> = { ...fullModeEnv(name), LOCATION_TTL_S: "10" };
  const svc = await startServiceProcess(env, 60_000);
  const mongo = new MongoClient(realServices().mongoUri);
  const topic = `${env.KAFKA_TOPIC_PREFIX}user_locations`;
  const inKafka = async (userId: string) =>
    (await readTopic(realServices().kafkaBrokers, topic)).some((m) =>
      m.key === userId || m.payload?.includes("32.0734567")
    );
  const inStore = async (userId: string) =>
    await mongo.db(env.MONGODB_DATABASE).collection("latest_user_location").countDocuments({ _id: userId as never }) >
      0;
  try {
    const carol = await newUser(svc.url);
    const placedAt = Date.now();
    assert.equal((await placeUser(svc.url, carol, { lat: 32.0734567, lng: 34.7734567 })).status, 200);
    // Where it is kept while it is fresh: the topic every instance rebuilds its index from, and the store.
    await waitFor(
      "the location on Kafka and in the store",
      async () => await inKafka(carol.userId) && await inStore(carol.userId) ? true : undefined,
      8_000,
    );
    const goneAt: { kafka?: number; store?: number } = {};
    await waitFor("the location gone from Kafka and the store", async () => {
      if (goneAt.kafka === undefined && !await inKafka(carol.userId)) goneAt.kafka = Date.now();
      if (goneAt.store === undefined && !await inStore(carol.userId)) goneAt.store = Date.now();
      return goneAt.kafka && goneAt.store ? true : undefined;
    }, 60_000);
    const [kafka, store] = [(goneAt.kafka! - placedAt) / 1000, (goneAt.store! - placedAt) / 1000];
    console.log(
      `location gone ${kafka.toFixed(1)} s after posting from Kafka, ${store.toFixed(1)} s from MongoDB (TTL 10 s)`,
    );
    const after = Math.max(kafka, store);
    // TTL + the broker's retention check (5 s here) + the sweeper's period (10 s) + a poll.
    assert.ok(after < 30, `${after} s`);
  } finally {
    await mongo.close();
    assert.equal(await svc.stop("SIGTERM"), 0, svc.output());
  }
});
