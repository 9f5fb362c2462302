/**
 * The benchmark's peers behind one interface: "load these points, then tell me who is
 * within R metres of here", answered by Tile38 (tile38.ts), Redis GEO (redis.ts) or
 * PostGIS (postgis.ts), so a benchmark can put AlertCircle's in-memory index next to
 * what people would use instead. Servers are started elsewhere; these open client connections to them.
 *
 * `near` may be called concurrently (a benchmark keeps tens of queries in flight):
 * Tile38 and Redis spread them over a few pipelined connections, PostGIS over a connection pool
 * running one prepared statement.
 */

import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import postgres from "postgres";
import { RespClient } from "./resp.ts";

export interface GeoPoints {
  ids: string[];
  lat: Float64Array;
  lng: Float64Array;
}

export interface GeoPeer {
  /** "redis-geo", "tile38" or "postgis". */
  name: string;
  /** Replaces whatever was loaded before with `points`; resolves once queries see them all. */
  load(points: GeoPoints): Promise<{ seconds: number }>;
  /** Ids of the points within `radiusM` metres of (lat, lng), in no particular order. */
  near(lat: number, lng: number, radiusM: number): Promise<string[]>;
  close(): Promise<void>;
}

function checkPoints(points: GeoPoints): void {
  const n = points.ids.length;
  if (points.lat.length !== n || points.lng.length !== n) {
    throw new RangeError(`points: ${n} ids but ${points.lat.length} lat and ${points.lng.length} lng`);
  }
}

// ---------------------------------------------------------------------------------
// Redis GEO

const REDIS_KEY = "alertcircle:bench:points";
/** Members per GEOADD: large enough to amortise a command, small enough to keep replies flowing. */
const GEOADD_CHUNK = 1_000;
/** GEOADD commands in flight during a load: keeps the socket busy without buffering the whole set. */
const GEOADD_WINDOW = 16;

class RedisGeoPeer implements GeoPeer {
  readonly name = "redis-geo";
  #clients: RespClient[];
  #next = 0;

  constructor(clients: RespClient[]) {
    this.#clients = clients;
  }

  #client(): RespClient {
    const c = this.#clients[this.#next];
    this.#next = (this.#next + 1) % this.#clients.length;
    return c;
  }

  async load(points: GeoPoints): Promise<{ seconds: number }> {
    checkPoints(points);
    const unique = new Set(points.ids).size; // GEOADD of a known member moves it
    const started = performance.now();
    // All commands on one connection, so they apply in order: DEL first, then the adds.
    const client = this.#clients[0];
    const inFlight: Promise<unknown>[] = [client.send(["DEL", REDIS_KEY])];
    const n = points.ids.length;
    for (let from = 0; from < n; from += GEOADD_CHUNK) {
      const to = Math.min(n, from + GEOADD_CHUNK);
      const args: (string | number)[] = new Array(2 + 3 * (to - from));
      args[0] = "GEOADD";
      args[1] = REDIS_KEY;
      let k = 2;
      for (let i = from; i < to; i++) {
        args[k++] = points.lng[i]; // GEOADD takes longitude first
        args[k++] = points.lat[i];
        args[k++] = points.ids[i];
      }
      inFlight.push(client.send(args));
      if (inFlight.length >= GEOADD_WINDOW) await inFlight.shift();
    }
    await Promise.all(inFlight);
    const count = await client.send(["ZCARD", REDIS_KEY]);
    if (count !== unique) throw new Error(`redis-geo: loaded ${count} of ${n} points`);
    return { seconds: (performance.now() - started) / 1000 };
  }

  async near(lat: number, lng: number, radiusM: number): Promise<string[]> {
    const reply = await this.#client().send([
      "GEOSEARCH",
      REDIS_KEY,
      "FROMLONLAT",
      lng,
      lat,
      "BYRADIUS",
      radiusM,
      "m",
    ]);
    if (!Array.isArray(reply)) throw new Error(`redis-geo: GEOSEARCH answered ${JSON.stringify(reply)}`);
    return reply as string[];
  }

  async close(): Promise<void> {
    await Promise.all(this.#clients.map((c) => c.close()));
  }
}

/**
 * Connects to a Redis server on 127.0.0.1:`port`. Queries go round-robin over
 * `connections` pipelined connections (Redis runs commands on one thread, so a few
 * are enough to keep it busy).
 */
export async function openRedisGeo(port: number, connections = 4): Promise<GeoPeer> {
  return new RedisGeoPeer(await connectAll(port, connections));
}

async function connectAll(port: number, connections: number): Promise<RespClient[]> {
  if (!(connections >= 1)) throw new RangeError("connections must be >= 1");
  const clients: RespClient[] = [];
  try {
    for (let i = 0; i < connections; i++) clients.push(await RespClient.connect({ port }));
  } catch (err) {
    await Promise.all(clients.map((c) => c.close()));
    throw err;
  }
  return clients;
}

// ---------------------------------------------------------------------------------
// Tile38

const TILE38_KEY = "alertcircle_bench_points";
/** SET commands in flight during a load: Tile38 has no multi-point SET, so it is pipelined. */
const TILE38_SET_WINDOW = 512;
/** NEARBY answers at most LIMIT objects (100 unless told): far above any 500 m circle here. */
const TILE38_LIMIT = 10_000_000;

class Tile38Peer implements GeoPeer {
  readonly name = "tile38";
  #clients: RespClient[];
  #next = 0;

  constructor(clients: RespClient[]) {
    this.#clients = clients;
  }

  async load(points: GeoPoints): Promise<{ seconds: number }> {
    checkPoints(points);
    const unique = new Set(points.ids).size; // SET of a known id moves it
    const started = performance.now();
    // One connection, so the DROP is applied before the SETs.
    const client = this.#clients[0];
    const inFlight: Promise<unknown>[] = [client.send(["DROP", TILE38_KEY])];
    for (let i = 0; i < points.ids.length; i++) {
      inFlight.push(client.send(["SET", TILE38_KEY, points.ids[i], "POINT", points.lat[i], points.lng[i]]));
      if (inFlight.length >= TILE38_SET_WINDOW) await inFlight.shift();
    }
    await Promise.all(inFlight);
    const stats = await client.send(["STATS", TILE38_KEY]);
    const fields = Array.isArray(stats) && Array.isArray(stats[0]) ? stats[0] : [];
    const count = Number(fields[fields.indexOf("num_objects") + 1]);
    if (count !== unique) throw new Error(`tile38: loaded ${count} of ${points.ids.length} points`);
    return { seconds: (performance.now() - started) / 1000 };
  }

  async near(lat: number, lng: number, radiusM: number): Promise<string[]> {
    const client = this.#clients[this.#next];
    this.#next = (this.#next + 1) % this.#clients.length;
    // IDS: ids only, no GeoJSON to build and parse. The reply is [cursor, [ids…]].
    const reply = await client.send([
      "NEARBY",
      TILE38_KEY,
      "LIMIT",
      TILE38_LIMIT,
      "IDS",
      "POINT",
      lat,
      lng,
      radiusM,
    ]);
    if (!Array.isArray(reply) || !Array.isArray(reply[1])) {
      throw new Error(`tile38: NEARBY answered ${JSON.stringify(reply)}`);
    }
    return reply[1] as string[];
  }

  async close(): Promise<void> {
    await Promise.all(this.#clients.map((c) => c.close()));
  }
}

/**
 * Connects to a Tile38 server on 127.0.0.1:`port`, queries round-robin over
 * `connections` pipelined connections (Tile38 answers reads on several threads).
 */
export async function openTile38(port: number, connections = 4): Promise<GeoPeer> {
  return new Tile38Peer(await connectAll(port, connections));
}

// ---------------------------------------------------------------------------------
// PostGIS

const PG_TABLE = "peer_points";
/** Rows per chunk handed to the COPY stream. */
const COPY_CHUNK = 10_000;
// ST_MakePoint takes (x, y) = (longitude, latitude). The last argument, use_spheroid =
// false, measures on PostGIS's sphere (mean radius 6371008.7714 m), as AlertCircle does
// (6371008.8 m); the default (true) would use the WGS 84 spheroid.
const NEAR_SQL = `SELECT id FROM ${PG_TABLE}
  WHERE ST_DWithin(geog, ST_MakePoint($1::float8, $2::float8)::geography, $3::float8, false)`;

/** COPY text format: backslash, tab, newline and carriage return must be escaped. */
function copyText(s: string): string {
  return /[\\\t\n\r]/.test(s)
    ? s.replace(/[\\\t\n\r]/g, (c) => (c === "\\" ? "\\\\" : c === "\t" ? "\\t" : c === "\n" ? "\\n" : "\\r"))
    : s;
}

class PostgisPeer implements GeoPeer {
  readonly name = "postgis";
  #sql: postgres.Sql;

  constructor(sql: postgres.Sql) {
    this.#sql = sql;
  }

  async load(points: GeoPoints): Promise<{ seconds: number }> {
    checkPoints(points);
    const sql = this.#sql;
    const started = performance.now();
    await sql.unsafe(`DROP TABLE IF EXISTS ${PG_TABLE}`);
    // No primary key: the benchmark never looks rows up by id, and a B-tree on it
    // would only add to the load time.
    await sql.unsafe(`CREATE TABLE ${PG_TABLE} (id text NOT NULL, geog geography(Point, 4326) NOT NULL)`);

    // COPY in the text format, geography as EWKT; doubles printed in their shortest
    // round-trip form, so PostGIS stores exactly the coordinates given.
    const n = points.ids.length;
    function* rows(): Generator<string> {
      for (let from = 0; from < n; from += COPY_CHUNK) {
        const to = Math.min(n, from + COPY_CHUNK);
        let chunk = "";
        for (let i = from; i < to; i++) {
          chunk += `${copyText(points.ids[i])}\tSRID=4326;POINT(${points.lng[i]} ${points.lat[i]})\n`;
        }
        yield chunk;
      }
    }
    const copy = await sql.unsafe(`COPY ${PG_TABLE} (id, geog) FROM STDIN`).writable();
    await pipeline(Readable.from(rows()), copy);

    await sql.unsafe(`CREATE INDEX ${PG_TABLE}_geog ON ${PG_TABLE} USING GIST (geog)`);
    // VACUUM as well as ANALYZE: otherwise autovacuum notices the freshly inserted
    // rows and starts on the table in the middle of the query benchmark.
    await sql.unsafe(`VACUUM (ANALYZE) ${PG_TABLE}`);
    const [{ count }] = await sql.unsafe<{ count: string }[]>(`SELECT count(*) AS count FROM ${PG_TABLE}`);
    if (Number(count) !== n) throw new Error(`postgis: loaded ${count} of ${n} points`);
    return { seconds: (performance.now() - started) / 1000 };
  }

  async near(lat: number, lng: number, radiusM: number): Promise<string[]> {
    // prepare: true makes postgres.js parse and plan the statement once per connection.
    const rows = await this.#sql.unsafe(NEAR_SQL, [lng, lat, radiusM], { prepare: true }).values();
    const ids = new Array<string>(rows.length);
    for (let i = 0; i < rows.length; i++) ids[i] = rows[i][0] as string;
    return ids;
  }

  async close(): Promise<void> {
    await this.#sql.end({ timeout: 5 });
  }
}

/**
 * Connects to the PostGIS database at `url` (as returned by postgis.ts `start`) with a
 * pool of up to `connections` connections; concurrent `near` calls run on all of them.
 */
export async function openPostgis(url: string, connections = 8): Promise<GeoPeer> {
  if (!(connections >= 1)) throw new RangeError("connections must be >= 1");
  const sql = postgres(url, {
    max: connections,
    onnotice: () => {}, // DROP TABLE IF EXISTS and the like report NOTICEs
    idle_timeout: 0,
    max_lifetime: null, // a connection recycled mid-run would re-prepare and skew timings
  });
  try {
    await sql`SELECT postgis_lib_version()`;
  } catch (err) {
    await sql.end({ timeout: 5 });
    throw err;
  }
  return new PostgisPeer(sql);
}
