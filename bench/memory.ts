/**
 * Memory per active user:
 * - bytes per user in the embedded store (the LocationIndex enrichment reads), measured
 *   in this process as the growth of V8's heap plus external memory after full
 *   collections, for N users with real UUID ids at positions spread over the city;
 * - the resident set of the whole service (main.ts as its own process, simulator on)
 *   once N simulated users are active, for each N asked.
 *
 * Needs `--v8-flags=--expose-gc` (the bench task passes it): without a forced
 * collection the heap figure would count garbage.
 *
 * Usage: deno run -A --v8-flags=--expose-gc bench/memory.ts [--users 100000]
 *        [--rss 100000,1000000] [--json out.json]
 */

import { parseArgs } from "node:util";
import { LocationIndex } from "../domain/location_index.ts";
import { startServiceProcess } from "../tests/support/service_process.ts";
import { seededRandom } from "../tests/support/random.ts";
import { CITY } from "./lib/city.ts";
import { round } from "./lib/stats.ts";

export interface IndexMemory {
  users: number;
  bytesPerUser: number;
  heapDeltaBytes: number;
  externalDeltaBytes: number;
}

export interface ServiceRss {
  users: number;
  activeUsers: number;
  rssMb: number;
  heapUsedMb: number;
  /** Seconds from start until every simulated user was active. */
  secondsToActive: number;
}

function collect(): Deno.MemoryUsage {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error("run with --v8-flags=--expose-gc: the heap figure needs a forced collection");
  for (let i = 0; i < 3; i++) gc();
  return Deno.memoryUsage();
}

/** Bytes per user held by the embedded store, ids included. */
export function measureIndexMemory(users: number): IndexMemory {
  const random = seededRandom(11);
  // Ids and positions are made before the baseline: the ids would exist in any store
  // (they arrive in requests), but the index keeps them, so their bytes are counted
  // by building them as fresh strings inside the measured window below.
  const lat = new Float64Array(users);
  const lng = new Float64Array(users);
  for (let i = 0; i < users; i++) ({ lat: lat[i], lng: lng[i] } = CITY.randomPoint(random));
  const before = collect();
  const index = new LocationIndex();
  const now = Date.now();
  for (let i = 0; i < users; i++) index.upsert(crypto.randomUUID(), lat[i], lng[i], now);
  const after = collect();
  const heap = after.heapUsed - before.heapUsed;
  const external = after.external - before.external;
  if (index.size !== users) throw new Error(`index holds ${index.size} users, expected ${users}`);
  return {
    users,
    bytesPerUser: round((heap + external) / users, 1),
    heapDeltaBytes: heap,
    externalDeltaBytes: external,
  };
}

/** The service's resident set once `users` simulated users are active. */
export async function measureServiceRss(users: number, timeoutMs = 180_000): Promise<ServiceRss> {
  const started = performance.now();
  const svc = await startServiceProcess({
    SIMULATE: "on",
    SIM_USERS: String(users),
    SIM_CENTER: `${CITY.center.lat},${CITY.center.lng}`,
    SIM_SPREAD_M: String(CITY.discRadiusM),
    SIM_REPORT_INTERVAL_S: "3600",
    LOG_LEVEL: "warn",
  }, 60_000);
  try {
    const stats = async () => await (await fetch(`${svc.url}/api/stats`)).json();
    let s = await stats();
    while (s.activeUsers < users) {
      if (performance.now() - started > timeoutMs) {
        throw new Error(`only ${s.activeUsers} of ${users} users active after ${timeoutMs / 1000} s`);
      }
      await new Promise((r) => setTimeout(r, 500));
      s = await stats();
    }
    const secondsToActive = (performance.now() - started) / 1000;
    // Let the start-up garbage go before reading the resident set.
    await new Promise((r) => setTimeout(r, 3_000));
    s = await stats();
    return {
      users,
      activeUsers: s.activeUsers,
      rssMb: round(s.memory.rssBytes / 2 ** 20, 1),
      heapUsedMb: round(s.memory.heapUsedBytes / 2 ** 20, 1),
      secondsToActive: round(secondsToActive, 1),
    };
  } finally {
    await svc.stop("SIGTERM");
    await Deno.remove(svc.dataDir, { recursive: true }).catch(() => {});
  }
}

export function describeMemory(m: IndexMemory, rss: ServiceRss[]): string {
  return [
    `embedded store: ${m.bytesPerUser} bytes per active user (${m.users.toLocaleString("en")} users with UUID ids)`,
    ...rss.map((r) =>
      `service RSS with ${
        r.activeUsers.toLocaleString("en")
      } active users: ${r.rssMb} MB (heap ${r.heapUsedMb} MB; all active after ${r.secondsToActive} s)`
    ),
  ].join("\n");
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      users: { type: "string", default: "100000" },
      rss: { type: "string", default: "100000,1000000" },
      json: { type: "string" },
    },
  });
  const index = measureIndexMemory(Number(values.users));
  const rss: ServiceRss[] = [];
  for (const n of values.rss.split(",").filter(Boolean).map(Number)) rss.push(await measureServiceRss(n));
  console.log(describeMemory(index, rss));
  if (values.json) await Deno.writeTextFile(values.json, JSON.stringify({ index, rss }, null, 2) + "\n");
}
