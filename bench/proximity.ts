/**
 * "Who is within 500 m?" on the same points and the same query points, answered by:
 * - AlertCircle's in-memory index (what enrichment uses), in this process;
 * - AlertCircle's MongoDB store (cell candidates + exact distance) on FerretDB;
 * - a brute-force scan of every point (the floor to beat);
 * - Tile38 (NEARBY … POINT lat lon 500), Redis GEO (GEOSEARCH … BYRADIUS) and
 *   PostgreSQL + PostGIS (ST_DWithin on geography with a GiST index), the servers people
 *   would use instead, on 127.0.0.1.
 * Answers are checked against the brute force: the ids must match, except within a few
 * decimetres of the circle for Redis, which snaps points to a 52-bit geohash and uses a
 * different Earth radius. Then queries per second and latency. Tile38 is built from
 * source (see peers/tile38.ts); where it cannot be, it is reported as blocked.
 *
 * Usage: deno run -A bench/proximity.ts [--sizes 100000,1000000] [--queries 100000]
 *        [--budget-s 20] [--json out.json]
 */

import { parseArgs } from "node:util";
import { LocationIndex } from "../domain/location_index.ts";
import { chord2ForDistance, distanceM, toUnitVector } from "../domain/geo.ts";
import { PROXIMITY_GRID } from "../domain/grid.ts";
import { MongoStore } from "../adapters/store/mongo.ts";
import * as ferretdb from "../scripts/services/ferretdb.ts";
import { cacheDir } from "../scripts/services/service.ts";
import { seededRandom } from "../tests/support/random.ts";
import { CITY } from "./lib/city.ts";
import { round, summarize } from "./lib/stats.ts";
import type { GeoPeer, GeoPoints } from "./peers/peers.ts";
import { openPostgis, openRedisGeo, openTile38 } from "./peers/peers.ts";
import * as postgis from "./peers/postgis.ts";
import * as redis from "./peers/redis.ts";
import * as tile38 from "./peers/tile38.ts";

const RADIUS_M = 500;

export interface EngineResult {
  engine: string;
  queries: number;
  qps: number;
  p50Ms: number;
  p99Ms: number;
  /** Queries checked against the brute force, and answers that differed beyond the tolerance. */
  checked: number;
  mismatches: number;
  /** Ids that differed only within the tolerance band at the circle's edge. */
  edgeDifferences: number;
  loadSeconds?: number;
  note?: string;
}

export interface ProximityResult {
  points: number;
  meanAnswer: number;
  engines: EngineResult[];
}

function makePoints(n: number, seed: number): GeoPoints {
  const random = seededRandom(seed);
  const lat = new Float64Array(n);
  const lng = new Float64Array(n);
  const ids: string[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const p = CITY.randomPoint(random);
    lat[i] = p.lat;
    lng[i] = p.lng;
    ids[i] = `p${i}`;
  }
  return { ids, lat, lng };
}

/** The floor: every point's squared chord against the query's. */
class BruteForce {
  private readonly xyz: Float64Array;
  constructor(private readonly points: GeoPoints) {
    this.xyz = new Float64Array(points.ids.length * 3);
    for (let i = 0; i < points.ids.length; i++) this.xyz.set(toUnitVector(points.lat[i], points.lng[i]), i * 3);
  }
  near(lat: number, lng: number, r: number): string[] {
    const [qx, qy, qz] = toUnitVector(lat, lng);
    const limit = chord2ForDistance(r);
    const out: string[] = [];
    const xyz = this.xyz;
    for (let i = 0, o = 0; o < xyz.length; i++, o += 3) {
      const dx = xyz[o] - qx, dy = xyz[o + 1] - qy, dz = xyz[o + 2] - qz;
      if (dx * dx + dy * dy + dz * dz <= limit) out.push(this.points.ids[i]);
    }
    return out;
  }
}

/** Compares an answer with the truth; differences within `toleranceM` of the circle are the edge's. */
function compare(
  points: GeoPoints,
  q: { lat: number; lng: number },
  got: string[],
  truth: string[],
  toleranceM: number,
) {
  const a = new Set(got);
  const b = new Set(truth);
  let edge = 0;
  let wrong = 0;
  for (const id of new Set([...a, ...b])) {
    if (a.has(id) === b.has(id)) continue;
    const i = Number(id.slice(1));
    const d = distanceM(q, { lat: points.lat[i], lng: points.lng[i] });
    if (Math.abs(d - RADIUS_M) <= toleranceM) edge++;
    else wrong++;
  }
  return { edge, wrong };
}

/** Runs queries until all are done or the budget is spent, `concurrency` in flight. */
async function timeQueries(
  queries: Array<{ lat: number; lng: number }>,
  near: (q: { lat: number; lng: number }) => Promise<string[]> | string[],
  budgetMs: number,
  concurrency: number,
): Promise<{ latencies: number[]; seconds: number }> {
  const latencies: number[] = [];
  const started = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < queries.length && performance.now() - started < budgetMs) {
      const q = queries[next++];
      const t = performance.now();
      await near(q);
      latencies.push(performance.now() - t);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { latencies, seconds: (performance.now() - started) / 1000 };
}

function result(
  engine: string,
  t: { latencies: number[]; seconds: number },
  extra: Partial<EngineResult>,
): EngineResult {
  const s = summarize(t.latencies);
  return {
    engine,
    queries: t.latencies.length,
    // Whole queries per second, except for engines too slow for that to say anything.
    qps: round(t.latencies.length / t.seconds, t.latencies.length / t.seconds < 10 ? 2 : 0),
    p50Ms: round(s.p50, 3),
    p99Ms: round(s.p99, 3),
    checked: 0,
    mismatches: 0,
    edgeDifferences: 0,
    ...extra,
  };
}

export async function runProximity(options: {
  size: number;
  queries: number;
  budgetMs: number;
  check: number;
  peers: { tile38Port?: number; tile38Blocked?: string; redisPort?: number; postgisUrl?: string; mongoUri?: string };
  mongoMaxPoints?: number;
}): Promise<ProximityResult> {
  const points = makePoints(options.size, 1);
  const queryPoints = Array.from(
    { length: options.queries },
    (() => {
      const random = seededRandom(2);
      return () => CITY.randomPoint(random);
    })(),
  );
  const brute = new BruteForce(points);
  const checkSet = queryPoints.slice(0, options.check);
  const truth = checkSet.map((q) => brute.near(q.lat, q.lng, RADIUS_M));
  const meanAnswer = truth.reduce((n, t) => n + t.length, 0) / truth.length;
  const engines: EngineResult[] = [];

  const verify = async (
    near: (q: { lat: number; lng: number }) => Promise<string[]> | string[],
    toleranceM: number,
    limit = checkSet.length,
  ) => {
    let mismatches = 0, edge = 0;
    for (let i = 0; i < Math.min(limit, checkSet.length); i++) {
      const c = compare(points, checkSet[i], await near(checkSet[i]), truth[i], toleranceM);
      mismatches += c.wrong;
      edge += c.edge;
    }
    return { checked: Math.min(limit, checkSet.length), mismatches, edgeDifferences: edge };
  };

  // AlertCircle's index, exactly as enrichment uses it.
  const index = new LocationIndex();
  const loadStart = performance.now();
  const now = Date.now();
  for (let i = 0; i < options.size; i++) index.upsert(points.ids[i], points.lat[i], points.lng[i], now);
  const indexLoad = (performance.now() - loadStart) / 1000;
  const indexNear = (q: { lat: number; lng: number }) => index.near(q.lat, q.lng, RADIUS_M, 0).userIds;
  const indexCheck = await verify(indexNear, 0.001);
  for (let i = 0; i < 200; i++) indexNear(queryPoints[i]); // warm the JIT
  engines.push(result("alertcircle-index", await timeQueries(queryPoints, indexNear, options.budgetMs, 1), {
    ...indexCheck,
    loadSeconds: round(indexLoad, 2),
    note: "in-process, one core, as enrichment calls it",
  }));

  const bruteNear = (q: { lat: number; lng: number }) => brute.near(q.lat, q.lng, RADIUS_M);
  engines.push(result("brute-force", await timeQueries(queryPoints, bruteNear, options.budgetMs, 1), {
    checked: checkSet.length,
    note: "in-process scan of every point: the floor",
  }));

  if (options.peers.tile38Blocked) engines.push(notRun("tile38", `blocked: ${options.peers.tile38Blocked}`));
  // The servers, each with how far from the circle its answers may differ (see the top).
  const servers: Array<{ open?: () => Promise<GeoPeer>; toleranceM: number; note: string }> = [
    {
      open: options.peers.tile38Port ? () => openTile38(options.peers.tile38Port!, 4) : undefined,
      toleranceM: 0.01,
      note: "server over RESP, 16 in flight on 4 connections",
    },
    {
      open: options.peers.redisPort ? () => openRedisGeo(options.peers.redisPort!, 4) : undefined,
      toleranceM: 0.5,
      note: "server over RESP, 16 in flight on 4 connections",
    },
    {
      open: options.peers.postgisUrl ? () => openPostgis(options.peers.postgisUrl!, 4) : undefined,
      toleranceM: 0.001,
      note: "server over SQL, 16 in flight on 4 connections",
    },
  ];
  for (const server of servers) {
    if (!server.open) continue;
    const peer = await server.open();
    engines.push(
      await measurePeer(
        peer,
        points,
        queryPoints,
        options.budgetMs,
        (near) => verify(near, server.toleranceM),
        server.note,
      ),
    );
  }
  if (options.peers.mongoUri && options.size <= (options.mongoMaxPoints ?? 100_000)) {
    engines.push(
      await measureMongo(
        options.peers.mongoUri,
        points,
        queryPoints,
        options.budgetMs,
        (near) => verify(near, 0.001, 5),
      ),
    );
  } else if (options.peers.mongoUri) {
    engines.push(
      notRun(
        "alertcircle-mongo (FerretDB)",
        `not run at ${options.size} points: FerretDB's SQLite backend scans the collection per query (seconds each)`,
      ),
    );
  }
  return { points: options.size, meanAnswer: round(meanAnswer, 1), engines };
}

function notRun(engine: string, note: string): EngineResult {
  return { engine, queries: 0, qps: 0, p50Ms: NaN, p99Ms: NaN, checked: 0, mismatches: 0, edgeDifferences: 0, note };
}

async function measurePeer(
  peer: GeoPeer,
  points: GeoPoints,
  queries: Array<{ lat: number; lng: number }>,
  budgetMs: number,
  verify: (near: (q: { lat: number; lng: number }) => Promise<string[]>) => Promise<Partial<EngineResult>>,
  note: string,
): Promise<EngineResult> {
  try {
    const { seconds } = await peer.load(points);
    const near = (q: { lat: number; lng: number }) => peer.near(q.lat, q.lng, RADIUS_M);
    const checked = await verify(near);
    for (let i = 0; i < 50; i++) await near(queries[i]);
    return result(peer.name, await timeQueries(queries, near, budgetMs, 16), {
      ...checked,
      loadSeconds: round(seconds, 2),
      note,
    });
  } finally {
    await peer.close();
  }
}

async function measureMongo(
  uri: string,
  points: GeoPoints,
  queries: Array<{ lat: number; lng: number }>,
  budgetMs: number,
  verify: (near: (q: { lat: number; lng: number }) => Promise<string[]>) => Promise<Partial<EngineResult>>,
): Promise<EngineResult> {
  const database = `bench_proximity_${Date.now()}`;
  const store = await MongoStore.open({ uri, database }, { locationS: 3_600, alertS: 600 });
  try {
    // Bulk-loaded with insertMany: FerretDB takes inserts fast, updates slowly.
    const started = performance.now();
    const seenAt = new Date();
    const docs = points.ids.map((id, i) => ({
      _id: id,
      lat: points.lat[i],
      lng: points.lng[i],
      cell: PROXIMITY_GRID.cellOf(points.lat[i], points.lng[i]),
      seenAt,
    }));
    const coll = store.db.collection<(typeof docs)[number]>("latest_user_location");
    for (let i = 0; i < docs.length; i += 5_000) await coll.insertMany(docs.slice(i, i + 5_000), { ordered: false });
    const loadSeconds = (performance.now() - started) / 1000;
    const t = Date.now();
    const near = async (q: { lat: number; lng: number }) =>
      (await store.locations.near(q.lat, q.lng, RADIUS_M, t)).userIds;
    const checked = await verify(near);
    return result(`alertcircle-mongo (${store.server})`, await timeQueries(queries, near, budgetMs, 4), {
      ...checked,
      loadSeconds: round(loadSeconds, 2),
      note: "AlertCircle's MongoDB store: {cell:{$in}, seenAt} then exact distance; FerretDB scans per query",
    });
  } finally {
    await store.db.dropDatabase().catch(() => {});
    await store.close();
  }
}

/** Starts the peers on 127.0.0.1 (provisioning them once), runs the sizes, stops them. */
export async function runProximitySuite(
  o: {
    sizes: number[];
    queries: number;
    budgetMs: number;
    check: number;
    /** Measure AlertCircle's MongoDB store too: on this server, or on a FerretDB started here when `true`. */
    mongo: boolean | string;
  },
) {
  const tile38Bin = await tile38.provision(cacheDir()).catch((err) => {
    if (err instanceof tile38.Tile38Unavailable) return err;
    throw err;
  });
  await Promise.all([
    redis.provision(),
    postgis.provision(),
    o.mongo === true ? ferretdb.provision(cacheDir()) : Promise.resolve(),
  ]);
  const dir = await Deno.makeTempDir({ dir: "/tmp", prefix: "bench-peers-" });
  await Deno.chmod(dir, 0o755);
  const t38 = typeof tile38Bin === "string"
    ? await tile38.start({ bin: tile38Bin, dataDir: `${dir}/tile38` })
    : undefined;
  const r = await redis.start({ dataDir: `${dir}/redis` });
  const pg = await postgis.start({ dataDir: `${dir}/pg` });
  const fdb = o.mongo === true ? await ferretdb.start({ cacheDir: cacheDir(), dataDir: `${dir}/ferretdb` }) : undefined;
  const mongoUri = typeof o.mongo === "string" ? o.mongo : fdb?.env.MONGODB_URI;
  try {
    const results: ProximityResult[] = [];
    for (const size of o.sizes) {
      results.push(
        await runProximity({
          size,
          queries: o.queries,
          budgetMs: o.budgetMs,
          check: o.check,
          peers: {
            tile38Port: t38?.port,
            tile38Blocked: tile38Bin instanceof Error ? tile38Bin.message : undefined,
            redisPort: r.port,
            postgisUrl: pg.url,
            mongoUri,
          },
        }),
      );
    }
    return {
      results,
      versions: {
        tile38: typeof tile38Bin === "string" ? await tile38.version(tile38Bin) : "blocked",
        redis: await redis.version(),
        ...(await postgis.versions(pg.url)),
      },
    };
  } finally {
    await Promise.allSettled([t38?.stop(), r.stop(), pg.stop(), fdb?.stop()]);
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

export function describeProximity(p: ProximityResult): string {
  const lines = [`${p.points.toLocaleString("en")} points, 500 m, ${p.meanAnswer} ids per answer on average:`];
  for (const e of p.engines) {
    lines.push(
      `  ${e.engine.padEnd(30)} ${
        String(e.qps).padStart(8)
      } q/s  p50 ${e.p50Ms} ms  p99 ${e.p99Ms} ms  (${e.queries} queries; ${e.checked} checked, ${e.mismatches} wrong, ${e.edgeDifferences} at the edge)${
        e.note ? `  — ${e.note}` : ""
      }`,
    );
  }
  return lines.join("\n");
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      sizes: { type: "string", default: "100000,1000000" },
      queries: { type: "string", default: "100000" },
      "budget-s": { type: "string", default: "20" },
      check: { type: "string", default: "200" },
      "no-mongo": { type: "boolean", default: false },
      json: { type: "string" },
    },
  });
  const suite = await runProximitySuite({
    sizes: values.sizes.split(",").map(Number),
    queries: Number(values.queries),
    budgetMs: Number(values["budget-s"]) * 1000,
    check: Number(values.check),
    mongo: !values["no-mongo"],
  });
  for (const r of suite.results) console.log(describeProximity(r));
  console.log(`peers: ${JSON.stringify(suite.versions)}`);
  if (values.json) await Deno.writeTextFile(values.json, JSON.stringify(suite, null, 2) + "\n");
}
