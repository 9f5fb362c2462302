/**
 * Checks the benchmark peers (Tile38 where it can be built, Redis GEO and PostGIS, real
 * servers started here)
 * against a brute-force haversine on AlertCircle's sphere: 20,000 random points within
 * 5 km of central Tel Aviv, 200 random 500 m queries run concurrently, the id sets must
 * match except for points so close to the circle that the engines' own Earth models
 * decide differently. Then both servers are stopped and must really be gone.
 */

import assert from "node:assert/strict";
import { destination, distanceM, type LatLng } from "../../domain/geo.ts";
import { isAlive } from "./proc.ts";
import { type GeoPeer, type GeoPoints, openPostgis, openRedisGeo, openTile38 } from "./peers.ts";
import * as pg from "./postgis.ts";
import * as redis from "./redis.ts";
import * as tile38 from "./tile38.ts";
import { cacheDir } from "../../scripts/services/service.ts";
import { seededRandom } from "../../tests/support/random.ts";

const CENTER: LatLng = { lat: 32.0853, lng: 34.7818 };
const POINTS = 20_000;
const SPREAD_M = 5_000;
const QUERIES = 200;
const RADIUS_M = 500;
const IN_FLIGHT = 32;

/**
 * How far from the circle a point may be and still be answered differently.
 * PostGIS (use_spheroid = false) measures on a sphere of 6371008.7714 m against our
 * 6371008.8 m, and keeps full double coordinates: a difference at 500 m is ~2 µm, so
 * 0.2 m is generous.
 * Redis measures on 6372797.560856 m, which shrinks its circle by 500 × (1 − 6371008.8 /
 * 6372797.560856) = 0.140 m in our metric, and it stores 52-bit geohashes, which move
 * each point to the centre of its cell (0.505 m × 0.282 m at this latitude), i.e. by up
 * to 0.289 m. So Redis may disagree anywhere from 0.43 m inside to 0.15 m outside the
 * circle; 0.5 m bounds that.
 */
const TOLERANCE_M: Record<string, number> = { "postgis": 0.2, "redis-geo": 0.5, "tile38": 0.01 };

/** A point uniformly distributed over the disc of radius `spread` around CENTER. */
function inDisc(rand: () => number, spread: number): LatLng {
  return destination(CENTER, rand() * 360, spread * Math.sqrt(rand()));
}

/** pids of live processes whose parent is `pid` (PostgreSQL backends and workers). */
function childrenOf(pid: number): number[] {
  const found: number[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const stat = Deno.readTextFileSync(`/proc/${entry.name}/stat`);
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === pid && isAlive(Number(entry.name))) found.push(Number(entry.name));
    } catch { /* exited while we looked */ }
  }
  return found;
}

Deno.test("peers: Tile38, Redis GEO and PostGIS answer 500 m queries like a brute-force haversine", async () => {
  await redis.provision();
  await pg.provision();
  // Tile38 is built from source only where its module or a checkout is at hand (see tile38.ts).
  const tile38Bin = await tile38.provision(cacheDir()).catch((err) => {
    if (!(err instanceof tile38.Tile38Unavailable)) throw err;
    console.log(`tile38 left out: ${err.message}`);
    return undefined;
  });
  const tile38Dir = await Deno.makeTempDir({ prefix: "ac-tile38-" });
  const tile38Server = tile38Bin ? await tile38.start({ bin: tile38Bin, dataDir: tile38Dir }) : undefined;
  const redisDir = await Deno.makeTempDir({ prefix: "ac-redis-" });
  const pgDir = await Deno.makeTempDir({ prefix: "ac-pg-" });
  const redisServer = await redis.start({ dataDir: redisDir });
  let pgServer: pg.RunningPostgis | undefined;
  const peers: GeoPeer[] = [];
  try {
    pgServer = await pg.start({ dataDir: pgDir });
    console.log(`versions: redis-server ${await redis.version()}, ${JSON.stringify(await pg.versions(pgServer.url))}`);
    if (tile38Server) peers.push(await openTile38(tile38Server.port, 2));
    peers.push(await openRedisGeo(redisServer.port, 2));
    peers.push(await openPostgis(pgServer.url, 4));

    const rand = seededRandom(20261204);
    const points: GeoPoints = {
      ids: Array.from({ length: POINTS }, (_, i) => `user-${i}`),
      lat: new Float64Array(POINTS),
      lng: new Float64Array(POINTS),
    };
    for (let i = 0; i < POINTS; i++) {
      const p = inDisc(rand, SPREAD_M);
      points.lat[i] = p.lat;
      points.lng[i] = p.lng;
    }
    for (const peer of peers) {
      const { seconds } = await peer.load(points);
      console.log(`${peer.name}: loaded ${POINTS} points in ${seconds.toFixed(2)} s`);
    }

    const queries = Array.from({ length: QUERIES }, () => inDisc(rand, SPREAD_M));
    const distances = queries.map((q) => {
      const d = new Float64Array(POINTS);
      for (let i = 0; i < POINTS; i++) d[i] = distanceM(q, { lat: points.lat[i], lng: points.lng[i] });
      return d;
    });
    const index = new Map(points.ids.map((id, i) => [id, i]));

    for (const peer of peers) {
      // Run the queries IN_FLIGHT at a time, so replies are matched under concurrency.
      const answers: string[][] = new Array(QUERIES);
      let next = 0;
      await Promise.all(Array.from({ length: IN_FLIGHT }, async () => {
        while (next < QUERIES) {
          const k = next++;
          answers[k] = await peer.near(queries[k].lat, queries[k].lng, RADIUS_M);
        }
      }));

      let expectedTotal = 0;
      const boundary: number[] = []; // signed distance to the circle of each disagreement
      for (let k = 0; k < QUERIES; k++) {
        const got = new Set(answers[k]);
        assert.equal(got.size, answers[k].length, `${peer.name}: duplicate ids in one answer`);
        const d = distances[k];
        for (let i = 0; i < POINTS; i++) {
          const inside = d[i] <= RADIUS_M;
          if (inside) expectedTotal++;
          if (inside !== got.has(points.ids[i])) boundary.push(d[i] - RADIUS_M);
        }
        for (const id of got) assert.ok(index.has(id), `${peer.name}: unknown id ${id}`);
      }
      const range = boundary.length
        ? `${Math.min(...boundary).toFixed(3)}…${Math.max(...boundary).toFixed(3)} m`
        : "none";
      console.log(
        `${peer.name}: ${QUERIES} queries, ${expectedTotal} expected hits, ${boundary.length} boundary ` +
          `differences (${boundary.filter((x) => Math.abs(x) > 0.2).length} beyond 0.2 m; ` +
          `signed distance to the circle: ${range})`,
      );
      assert.ok(expectedTotal > QUERIES * 100, "the queries should find people");
      for (const x of boundary) {
        assert.ok(
          Math.abs(x) <= TOLERANCE_M[peer.name],
          `${peer.name}: a point ${x.toFixed(3)} m from the circle was answered differently`,
        );
      }
    }

    // A second load replaces the first.
    const few: GeoPoints = { ids: ["a", "b"], lat: new Float64Array(2), lng: new Float64Array(2) };
    const far = destination(CENTER, 90, 2_000);
    [few.lat[0], few.lng[0]] = [CENTER.lat, CENTER.lng];
    [few.lat[1], few.lng[1]] = [far.lat, far.lng];
    for (const peer of peers) {
      await peer.load(few);
      assert.deepEqual(await peer.near(CENTER.lat, CENTER.lng, RADIUS_M), ["a"], peer.name);
    }
  } finally {
    for (const peer of peers) await peer.close();
    await tile38Server?.stop();
    await redisServer.stop();
    await pgServer?.stop();
  }

  if (tile38Server) assert.ok(!isAlive(tile38Server.pid), "tile38-server still running after stop()");
  assert.ok(!isAlive(redisServer.pid), "redis-server still running after stop()");
  assert.ok(!isAlive(pgServer.pid), "postgres still running after stop()");
  assert.deepEqual(childrenOf(pgServer.pid), [], "postgres backends still running after stop()");
  await Deno.remove(tile38Dir, { recursive: true });
  await Deno.remove(redisDir, { recursive: true });
  await Deno.remove(pgDir, { recursive: true });
});
