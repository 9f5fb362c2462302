/**
 * Restarting the service mid-stream on the real engines, gracefully (SIGTERM) and by
 * crash (SIGKILL): every report that got a 202 is enriched once, stored, and archived
 * exactly once.
 */

import assert from "node:assert/strict";
import { MongoClient } from "mongodb";
import { destination } from "../domain/geo.ts";
import { newUser, placeUser, report } from "./support/app.ts";
import { archivedRecords, waitFor } from "./support/full_mode.ts";
import { readTopic } from "./support/kcat.ts";
import { fullModeEnv, realServices, uniqueName } from "./support/services.ts";
import type { ServiceProcess } from "./support/service_process.ts";
import { startServiceProcess } from "./support/service_process.ts";
import { SseClient } from "./support/sse.ts";
import type { SseEvent } from "./support/sse.ts";

const TLV = { lat: 32.0853, lng: 34.7818 };

async function restartMidStream(signal: Deno.Signal) {
  const name = uniqueName(`restart-${signal.toLowerCase()}`);
  // No repeat-joining here: every report is its own alert, so every one must be notified.
  const env: Record<string, string> = {
    ...fullModeEnv(name),
    ARCHIVE_FLUSH_S: "2",
    INSTANCE_ID: "restarting",
    DEDUPE_WINDOW_S: "0",
  };
  let current: ServiceProcess | undefined = await startServiceProcess(env, 60_000);
  const [reporter, watcher] = [await newUser(current.url), await newUser(current.url)];
  await placeUser(current.url, watcher, TLV);
  // The watcher's phone: its stream, which reconnects to the new instance with Last-Event-ID.
  const received: SseEvent[] = [];
  let stream = await SseClient.connect(`${current.url}/api/stream?userId=${watcher.userId}`, watcher.auth);
  const accepted: string[] = [];
  let posting = true;
  const poster = (async () => {
    for (let i = 0; posting; i++) {
      const target = current;
      if (target) {
        try {
          // All within 450 m of the watcher, so each one notifies them.
          const res = await report(target.url, reporter, {
            type: "parking_inspector",
            ...destination(TLV, (i * 47) % 360, 50 + (i * 13) % 400),
          });
          if (res.status === 202) accepted.push((await res.json()).id);
          else await res.body?.cancel();
        } catch { /* the instance is gone: not accepted, not counted */ }
      }
      await new Promise((r) => setTimeout(r, 15));
    }
  })();
  await new Promise((r) => setTimeout(r, 1_500));
  const first = current;
  current = undefined;
  const code = await first.stop(signal);
  assert.equal(code, signal === "SIGKILL" ? 137 : 0, first.output());
  const acceptedBefore = accepted.length;
  await stream.close();
  received.push(...stream.events.filter((e) => e.event === "notification"));
  const next = await startServiceProcess(env, 60_000);
  const lastId = received[received.length - 1]?.id;
  stream = await SseClient.connect(`${next.url}/api/stream?userId=${watcher.userId}`, {
    ...watcher.auth,
    ...(lastId ? { "Last-Event-ID": lastId } : {}),
  });
  current = next;
  await new Promise((r) => setTimeout(r, 1_500));
  posting = false;
  await poster;
  assert.ok(acceptedBefore > 10 && accepted.length > acceptedBefore + 10, `${acceptedBefore} then ${accepted.length}`);

  // What is durable is what was enriched: every accepted report, and possibly the one
  // request open at a kill (durable on Kafka without its 202 having reached the
  // client). Read once enrichment has nothing left, from Kafka itself.
  const brokers = realServices().kafkaBrokers;
  const enrichedTopic = `${env.KAFKA_TOPIC_PREFIX}enriched_alerts`;
  const enriched = await waitFor("every accepted report enriched, and nothing left to enrich", async () => {
    const stats = await (await fetch(`${next.url}/api/stats`)).json();
    if (stats.lag.enrich !== 0) return undefined;
    const ids = (await readTopic(brokers, enrichedTopic)).map((m) => JSON.parse(m.payload!).id as string);
    return accepted.every((id) => ids.includes(id)) ? ids : undefined;
  }, 40_000);
  const durable = [...new Set(enriched)];
  assert.equal(enriched.length, durable.length, "enriched exactly once each");
  const unanswered = durable.filter((id) => !accepted.includes(id));
  assert.ok(
    unanswered.length <= (signal === "SIGKILL" ? 1 : 0),
    `enriched reports never sent or accepted: ${unanswered}`,
  );

  // The watcher's feed, as the dashboard shows it (repeats dropped by id), has every
  // durable report once: nothing the crash interrupted is lost to them.
  try {
    for (const id of durable) await stream.waitFor((e) => e.id === id || received.some((r) => r.id === id), 30_000);
  } catch (err) {
    // Enough to tell a lost frame from a late replay or a missing document.
    const got = new Set([...received, ...stream.events].map((e) => e.id));
    const missing = durable.filter((id) => !got.has(id));
    console.log(
      `missing ${missing} (accepted #${
        missing.map((m) => accepted.indexOf(m))
      }, ${acceptedBefore} before the stop), last id before it ${lastId}`,
    );
    console.log(next.output().split("\n").filter((l) => /"level":"(warn|error)"|app\.started/.test(l)).join("\n"));
    throw err;
  }
  received.push(...stream.events.filter((e) => e.event === "notification"));
  await stream.close();
  const feed = new Set(received.map((e) => e.id));
  assert.deepEqual(durable.filter((id) => !feed.has(id)), [], "the watcher was told of every durable report");
  assert.deepEqual([...feed].filter((id) => !durable.includes(id!)), [], "and of nothing else");
  const repeats = received.length - feed.size;
  console.log(
    `${signal}: ${accepted.length} reports accepted (${unanswered.length} more durable without an answer), ${received.length} frames to the watcher, ${repeats} repeated across the reconnect`,
  );

  const mongo = new MongoClient(realServices().mongoUri);
  try {
    const stored = await waitFor("every durable report in alerts_live", async () => {
      const n = await mongo.db(env.MONGODB_DATABASE).collection("alerts_live").countDocuments({
        _id: { $in: durable as never[] },
      });
      return n === durable.length ? n : undefined;
    }, 40_000);
    assert.equal(stored, durable.length);
    const archived = await waitFor("every durable report archived", async () => {
      const records = await archivedRecords(`${env.S3_PREFIX}/`);
      return records.length >= durable.length ? records : undefined;
    }, 40_000);
    assert.deepEqual(archived.map((r) => r.id).sort(), [...durable].sort(), "archived exactly once each");
    // Nothing was enriched again meanwhile.
    const after = (await readTopic(brokers, enrichedTopic)).map((m) => JSON.parse(m.payload!).id as string);
    assert.deepEqual(after.sort(), [...durable].sort(), "enriched exactly once each");
  } finally {
    await mongo.close();
    assert.equal(await current.stop("SIGTERM"), 0, current.output());
  }
}

Deno.test("restart mid-stream (SIGTERM): no accepted report lost, none archived twice", () =>
  restartMidStream("SIGTERM"));
Deno.test("crash mid-stream (SIGKILL) and restart: no accepted report lost, none enriched or archived twice", () =>
  restartMidStream("SIGKILL"));
