/**
 * Location ingest: how many location updates per second the store absorbs, and how
 * long the minute job takes for 100,000 users.
 *
 * - Embedded: updates recorded one at a time, as POST /api/locations records them
 *   (LocationUpdates.record → the in-memory index), over 100,000 users moving around
 *   the city; and the minute job (LocationJob) moving all of them.
 * - MongoDB-protocol mode: the service's own wiring (buildApp) on Kafka + the MongoDB
 *   wire-protocol server, the minute job run for 100,000 users, then the time until
 *   the store holds all of them (the location sink writes behind the job).
 *
 * Usage: deno run -A bench/ingest.ts [--users 100000] [--updates 1000000] [--mongo]
 *        [--absorb-s 60] [--json out.json]
 */

import { parseArgs } from "node:util";
import { MemoryStore } from "../adapters/store/memory.ts";
import { MongoStore } from "../adapters/store/mongo.ts";
import { LocationUpdates } from "../app/locations.ts";
import { buildApp } from "../app/wiring.ts";
import { loadConfig } from "../config.ts";
import { LocationIndex } from "../domain/location_index.ts";
import { LocationJob } from "../jobs/location_job.ts";
import { provisionAll, startAll } from "../scripts/services/all.ts";
import { cacheDir } from "../scripts/services/service.ts";
import { seededRandom } from "../tests/support/random.ts";
import { CITY } from "./lib/city.ts";
import { round } from "./lib/stats.ts";

const AREA = { center: CITY.center, spreadM: CITY.discRadiusM };

export interface EmbeddedIngest {
  users: number;
  updates: number;
  /** One update per call, as the API records them. */
  updatesPerSecond: number;
  /** The minute job moving every user (its second run: all of them already known). */
  minuteJobMs: number;
}

export interface MongoIngest {
  server: string;
  users: number;
  /** The job's own time: every user moved in this instance's index and published on Kafka. */
  minuteJobMs: number;
  /** Until the store held every user's new position, or the budget ran out. */
  storeAbsorbed: number;
  storeSeconds: number;
  storeUpdatesPerSecond: number;
  /** Whether every update reached the store within the budget. */
  storeCaughtUp: boolean;
}

export async function runEmbeddedIngest(o: { users: number; updates: number }): Promise<EmbeddedIngest> {
  const index = new LocationIndex();
  const locations = new LocationUpdates({ index });
  const random = seededRandom(7);
  const ids = Array.from({ length: o.users }, () => crypto.randomUUID());
  // Positions drawn beforehand, so the clock measures the store and not the random numbers.
  const lat = new Float64Array(o.updates);
  const lng = new Float64Array(o.updates);
  for (let i = 0; i < o.updates; i++) ({ lat: lat[i], lng: lng[i] } = CITY.randomPoint(random));
  const now = Date.now();
  for (let i = 0; i < o.users; i++) await locations.record([{ userId: ids[i], lat: lat[i], lng: lng[i], seenAt: now }]);

  const started = performance.now();
  for (let i = 0; i < o.updates; i++) {
    await locations.record([{ userId: ids[i % o.users], lat: lat[i], lng: lng[i], seenAt: now + 1 }]);
  }
  const seconds = (performance.now() - started) / 1000;

  const job = new LocationJob({
    locations,
    leases: new MemoryStore(300_000).leases,
    area: AREA,
    users: o.users,
    instanceId: "bench",
  });
  await job.run();
  const second = await job.run();
  return {
    users: o.users,
    updates: o.updates,
    updatesPerSecond: Math.round(o.updates / seconds),
    minuteJobMs: round(second.ms, 1),
  };
}

/**
 * `servicesEnv`: KAFKA_BROKERS and MONGODB_URI of running servers. A fresh topic prefix
 * and database per run, so nothing from an earlier run is counted.
 */
export async function runMongoIngest(
  o: { users: number; absorbMs: number; servicesEnv: Record<string, string> },
): Promise<MongoIngest> {
  const run = `ingest${Date.now().toString(36)}`;
  const dataDir = await Deno.makeTempDir({ prefix: "bench-ingest-" });
  const config = loadConfig({
    KAFKA_BROKERS: o.servicesEnv.KAFKA_BROKERS,
    MONGODB_URI: o.servicesEnv.MONGODB_URI,
    MONGODB_DATABASE: run,
    KAFKA_TOPIC_PREFIX: `${run}.`,
    SIMULATE: "off",
    DATA_DIR: dataDir,
    LOG_LEVEL: "warn",
  });
  const app = await buildApp(config);
  try {
    await app.start();
    const store = app.ctx.store;
    const job = new LocationJob({
      locations: app.ctx.locations,
      leases: store.leases,
      area: AREA,
      users: o.users,
      instanceId: "bench",
    });
    const result = await job.run();
    if (!result.ran) throw new Error("the minute job did not get its lease");
    // The location sink writes behind the job: time until the store holds every user.
    const started = performance.now();
    let absorbed = 0;
    while (performance.now() - started < o.absorbMs) {
      absorbed = await store.locations.countActive(Date.now());
      if (absorbed >= o.users) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    const seconds = (performance.now() - started + result.ms) / 1000;
    return {
      server: store instanceof MongoStore ? store.server : store.kind,
      users: o.users,
      minuteJobMs: round(result.ms, 1),
      storeAbsorbed: absorbed,
      storeSeconds: round(seconds, 1),
      storeUpdatesPerSecond: Math.round(absorbed / seconds),
      storeCaughtUp: absorbed >= o.users,
    };
  } finally {
    await app.shutdown();
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  }
}

export function describeIngest(e: EmbeddedIngest, m?: MongoIngest): string {
  const lines = [
    `embedded: ${
      e.updatesPerSecond.toLocaleString("en")
    } location updates/s (${e.updates} updates over ${e.users} users, one per call); minute job for ${e.users} users ${e.minuteJobMs} ms`,
  ];
  if (m) {
    lines.push(
      `MongoDB-protocol (${m.server}) + Kafka: minute job for ${m.users} users ${m.minuteJobMs} ms; store held ${m.storeAbsorbed}/${m.users} after ${m.storeSeconds} s (${m.storeUpdatesPerSecond} updates/s${
        m.storeCaughtUp ? "" : ", had not caught up"
      })`,
    );
  }
  return lines.join("\n");
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      users: { type: "string", default: "100000" },
      updates: { type: "string", default: "1000000" },
      mongo: { type: "boolean", default: false },
      "absorb-s": { type: "string", default: "60" },
      json: { type: "string" },
    },
  });
  const users = Number(values.users);
  const embedded = await runEmbeddedIngest({ users, updates: Number(values.updates) });
  let mongo: MongoIngest | undefined;
  if (values.mongo) {
    await provisionAll(cacheDir());
    const dir = await Deno.makeTempDir({ prefix: "bench-services-" });
    const services = await startAll(cacheDir(), dir);
    try {
      mongo = await runMongoIngest({ users, absorbMs: Number(values["absorb-s"]) * 1000, servicesEnv: services.env });
    } finally {
      await services.stop();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  }
  console.log(describeIngest(embedded, mongo));
  if (values.json) await Deno.writeTextFile(values.json, JSON.stringify({ embedded, mongo }, null, 2) + "\n");
}
