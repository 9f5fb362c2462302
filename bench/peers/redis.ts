/**
 * Redis as a benchmark peer: the in-memory geo server people reach for when they need
 * "who is within 500 m" (GEOADD / GEOSEARCH … BYRADIUS). It stands in for Tile38, which
 * the spec named but which cannot be fetched here (the Go module proxy refuses it).
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
import { RespClient } from "./resp.ts";
import { aptInstall, exists, isAlive, logTail, run, sleep, stopPid } from "./proc.ts";

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

async function ping(port: number): Promise<void> {
  const client = await RespClient.connect({ port });
  // A listener that accepts but never answers (someone else's server) must not hang us.
  const timer = setTimeout(() => client.close(), 2_000);
  try {
    const reply = await client.send(["PING"]);
    if (reply !== "PONG") throw new Error(`PING answered ${JSON.stringify(reply)}`);
  } finally {
    clearTimeout(timer);
    await client.close();
  }
}

/** Starts redis-server on 127.0.0.1 and resolves once it answers PING with PONG. */
export async function start(opts: RedisStartOptions): Promise<RunningRedis> {
  if (!(await exists(BIN))) throw new Error(`redis: ${BIN} missing; run provision() first`);
  await Deno.mkdir(opts.dataDir, { recursive: true });
  const logFile = `${opts.dataDir}/redis.log`;

  // A port from freePort can be taken before the server binds it; only then retry.
  const attempts = opts.port ? 1 : 3;
  for (let attempt = 1;; attempt++) {
    const port = opts.port || freePort();
    const started = performance.now();
    const child = new Deno.Command("/bin/sh", {
      // exec keeps the pid redis-server's own; start-up errors printed before the
      // log file is opened land in the same file.
      args: [
        "-c",
        'log="$1"; shift; exec "$@" >>"$log" 2>&1',
        "sh",
        logFile,
        BIN,
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
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    const pid = child.pid;
    let exited = false;
    const status = child.status.finally(() => {
      exited = true;
    });
    // A script that ends without stop() (failed assertion, Deno.exit) must not leave
    // the server behind.
    const terminateOnExit = () => {
      try {
        Deno.kill(pid, "SIGTERM");
      } catch { /* already gone */ }
    };
    globalThis.addEventListener("unload", terminateOnExit);
    const stop = async (): Promise<void> => {
      await stopPid(pid, { graceMs: STOP_GRACE_MS, exited: () => exited });
      await status; // reap it, so the pid really disappears while this process lives
      globalThis.removeEventListener("unload", terminateOnExit);
    };

    let lastError: unknown;
    const deadline = started + READY_TIMEOUT_MS;
    while (!exited && performance.now() < deadline) {
      try {
        await ping(port);
        console.log(
          `redis: ready on 127.0.0.1:${port} (pid ${pid}) in ${(performance.now() - started).toFixed(0)} ms`,
        );
        return { name: "redis", pid, port, env: { REDIS_URL: `redis://127.0.0.1:${port}` }, stop };
      } catch (err) {
        lastError = err;
        await sleep(25);
      }
    }

    const diedEarly = exited || !isAlive(pid);
    await stop();
    const tail = await logTail(logFile);
    if (diedEarly && attempt < attempts && /already in use/i.test(tail)) continue;
    const why = diedEarly
      ? `exited with code ${(await status).code}`
      : `not ready after ${READY_TIMEOUT_MS / 1000} s (last error: ${
        lastError instanceof Error ? lastError.message : String(lastError)
      })`;
    throw new Error(`redis: redis-server ${why}; ${logFile} ends:\n${tail}`);
  }
}
