/**
 * Redis as a benchmark peer: the in-memory geo server people reach for when they need
 * "who is within 500 m" (GEOADD / GEOSEARCH … BYRADIUS), measured beside Tile38.
 *
 * Redis comes from Debian (`redis-server`, 7.0.x on bookworm), installed once with
 * apt-get; each `start` runs a private `redis-server` process (never the system
 * service) on 127.0.0.1, with persistence off, so a benchmark measures the index only.
 *
 * What Redis computes (geohash_helper.c): members are stored as 52-bit geohashes
 * (positions snap to a cell ≈0.6 m × 0.3 m at 32° N) and BYRADIUS keeps members whose
 * haversine distance on a sphere of radius 6372797.560856 m is <= the radius. That
 * sphere is 0.028 % larger than AlertCircle's 6371008.8 m, so at 500 m answers can
 * differ for points within a few decimetres of the circle.
 */

import { freePort, type RunningService } from "../../scripts/services/service.ts";
import { pingResp } from "./resp.ts";
import { aptInstall, exists, run, startLocalServer } from "./proc.ts";

const BIN = "/usr/bin/redis-server";
const READY_TIMEOUT_MS = 20_000;
const STOP_GRACE_MS = 10_000;

/** Installs Debian's redis-server if it is missing (needs root); a no-op afterwards. */
export async function provision(): Promise<void> {
  if (await exists(BIN)) return;
  await aptInstall("redis", ["redis-server"]);
  if (!(await exists(BIN))) throw new Error(`redis: apt-get reported success but ${BIN} is missing`);
}

/** "7.0.15" from `redis-server --version`. */
export async function version(): Promise<string> {
  const out = await run(BIN, ["--version"]);
  return /v=(\S+)/.exec(out)?.[1] ?? out.trim();
}

export interface RedisStartOptions {
  /** A folder the server may write its log (and nothing else: persistence is off) in. */
  dataDir: string;
  /** Port on 127.0.0.1; 0 or absent picks a free one. */
  port?: number;
}

export type RunningRedis = RunningService & { port: number };

/** Starts redis-server on 127.0.0.1 and resolves once it answers PING with PONG. */
export async function start(opts: RedisStartOptions): Promise<RunningRedis> {
  if (!(await exists(BIN))) throw new Error(`redis: ${BIN} missing; run provision() first`);
  await Deno.mkdir(opts.dataDir, { recursive: true });
  const logFile = `${opts.dataDir}/redis.log`;
  const server = await startLocalServer({
    name: "redis",
    bin: BIN,
    args: (port) => [
      "--bind",
      "127.0.0.1",
      "--port",
      String(port),
      "--protected-mode",
      "yes",
      // Persistence off: no RDB snapshots (an empty save list), no AOF.
      "--save",
      "",
      "--appendonly",
      "no",
      "--dir",
      opts.dataDir,
      "--logfile",
      logFile,
      "--daemonize",
      "no",
    ],
    logFile,
    port: opts.port,
    ready: (port) => pingResp(port, "PONG"),
    readyTimeoutMs: READY_TIMEOUT_MS,
    stopGraceMs: STOP_GRACE_MS,
    portInUse: /already in use/i,
    freePort,
  });
  return { name: "redis", ...server, env: { REDIS_URL: `redis://127.0.0.1:${server.port}` } };
}
