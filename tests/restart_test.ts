/**
 * Restarting the service mid-stream on the real engines, gracefully (SIGTERM) and by
 * crash (SIGKILL): every report that got a 202 is enriched once, stored, and archived
 * exactly once.
 */

import assert from "node:assert/strict";
import { MongoClient } from "mongodb";
import { destination } from "../domain/geo.ts";
import { newUser, report } from "./support/app.ts";
import { archivedRecords, waitFor } from "./support/full_mode.ts";
import { readTopic } from "./support/kcat.ts";
import { fullModeEnv, realServices, uniqueName } from "./support/services.ts";
import type { ServiceProcess } from "./support/service_process.ts";
import { startServiceProcess } from "./support/service_process.ts";

const TLV = { lat: 32.0853, lng: 34.7818 };

async function restartMidStream(signal: Deno.Signal) {
  const name = uniqueName(`restart-${signal.toLowerCase()}`);
  const env: Record<string, string> = { ...fullModeEnv(name), ARCHIVE_FLUSH_S: "2", INSTANCE_ID: "restarting" };
  let current: ServiceProcess | undefined = await startServiceProcess(env, 60_000);
  const reporter = await newUser(current.url);
  const accepted: string[] = [];
  let posting = true;
  const poster = (async () => {
    for (let i = 0; posting; i++) {
      const target = current;
      if (target) {
        try {
          // 200 m apart along a line: no report repeats another.
          const res = await report(target.url, reporter, {
            type: "parking_inspector",
            ...destination(TLV, 45, i * 200),
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
  current = await startServiceProcess(env, 60_000);
  await new Promise((r) => setTimeout(r, 1_500));
  posting = false;
  await poster;
  assert.ok(acceptedBefore > 10 && accepted.length > acceptedBefore + 10, `${acceptedBefore} then ${accepted.length}`);

  const mongo = new MongoClient(realServices().mongoUri);
  try {
    const stored = await waitFor("every accepted report in alerts_live", async () => {
      const n = await mongo.db(env.MONGODB_DATABASE).collection("alerts_live").countDocuments({
        _id: { $in: accepted as never[] },
      });
      return n === accepted.length ? n : undefined;
    }, 40_000);
    assert.equal(stored, accepted.length);
    const archived = await waitFor("every accepted report archived", async () => {
      const records = await archivedRecords(`${env.S3_PREFIX}/`);
      return records.length >= accepted.length ? records : undefined;
    }, 40_000);
    assert.deepEqual(archived.map((r) => r.id).sort(), [...accepted].sort(), "archived exactly once each");
    const enriched = await readTopic(realServices().kafkaBrokers, `${env.KAFKA_TOPIC_PREFIX}enriched_alerts`);
    assert.deepEqual(
      enriched.map((m) => JSON.parse(m.payload!).id).sort(),
      [...accepted].sort(),
      "enriched exactly once each",
    );
  } finally {
    await mongo.close();
    assert.equal(await current.stop("SIGTERM"), 0, current.output());
  }
}

Deno.test("restart mid-stream (SIGTERM): no accepted report lost, none archived twice", () =>
  restartMidStream("SIGTERM"));
Deno.test("crash mid-stream (SIGKILL) and restart: no accepted report lost, none enriched or archived twice", () =>
  restartMidStream("SIGKILL"));
