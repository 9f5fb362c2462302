/**
 * Tile38 as a benchmark peer: the in-memory geofencing server people reach for when
 * they need "who is within 500 m" (`SET key id POINT lat lon`, `NEARBY key … POINT lat
 * lon meters`), spoken to over RESP like Redis.
 *
 * It is built from its Go module into the cache folder, once:
 *   go install github.com/tidwall/tile38/cmd/tile38-server@<VERSION>
 * Where the Go module proxy refuses that module (it does on the machines this project
 * is developed on, with 403 "This module version is not available"), set TILE38_SRC to
 * a checkout of github.com/tidwall/tile38 and the same binary is built from it; its
 * dependencies still come from the module proxy. Without either, `provision` throws
 * Tile38Unavailable and the benchmark reports the peer as blocked, with the reason.
 *
 * What Tile38 computes: points keep their float64 coordinates; NEARBY … POINT … meters
 * keeps the objects whose haversine distance on a sphere of 6,371,000 m is within the
 * radius. AlertCircle's sphere is 6,371,008.8 m, so at 500 m the two differ by 0.7 mm.
 */

import { freePort, type RunningService } from "../../scripts/services/service.ts";
import { exists, run, startLocalServer } from "./proc.ts";
import { pingResp } from "./resp.ts";

export const VERSION = "v1.37.0";
const MODULE = "github.com/tidwall/tile38";
const READY_TIMEOUT_MS = 20_000;
const STOP_GRACE_MS = 10_000;

/** Tile38 could not be built here; the message says why and what would fix it. */
export class Tile38Unavailable extends Error {
  override name = "Tile38Unavailable";
}

/** What `tile38-server --version` prints; its build scripts set it the same way. */
function versionFlag(version: string): string {
  return `-X '${MODULE}/core.Version=${version}'`;
}

function binPath(cacheDir: string): string {
  return `${cacheDir}/tile38/${VERSION}/tile38-server`;
}

/** Builds tile38-server into `cacheDir` unless it is there; returns its path. */
export async function provision(cacheDir: string): Promise<string> {
  const bin = binPath(cacheDir);
  if (await exists(bin)) return bin;
  const binDir = bin.slice(0, bin.lastIndexOf("/"));
  await Deno.mkdir(binDir, { recursive: true });
  const started = performance.now();
  const env = { GOBIN: binDir, GOFLAGS: "-mod=mod", CGO_ENABLED: "0" };
  let moduleError: string;
  try {
    console.log(`tile38: go install ${MODULE}/cmd/tile38-server@${VERSION} (first run only)…`);
    await run("go", ["install", "-ldflags", versionFlag(VERSION.slice(1)), `${MODULE}/cmd/tile38-server@${VERSION}`], {
      env,
    });
  } catch (err) {
    moduleError = (err instanceof Error ? err.message : String(err)).split("\n").slice(0, 3).join(" ");
    const src = Deno.env.get("TILE38_SRC");
    if (!src) {
      throw new Tile38Unavailable(
        `the Go module proxy did not serve ${MODULE}@${VERSION} (${moduleError}); ` +
          `set TILE38_SRC to a checkout of ${MODULE} to build it from source`,
      );
    }
    console.log(`tile38: module refused; building ${src} instead…`);
    const described = await run("git", ["-C", src, "describe", "--tags"]).catch(() => "unknown");
    const out = await new Deno.Command("go", {
      args: ["build", "-ldflags", versionFlag(`source ${described.trim()}`), "-o", bin, "./cmd/tile38-server"],
      cwd: src,
      env,
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!out.success) {
      throw new Tile38Unavailable(`go build in ${src} failed: ${new TextDecoder().decode(out.stderr).slice(-2000)}`);
    }
  }
  if (!(await exists(bin))) throw new Error(`tile38: the build reported success but ${bin} is missing`);
  console.log(`tile38: built in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return bin;
}

/** "1.37.0", or "source 1.37.0-5-g5b8ce586" for a build from TILE38_SRC. */
export async function version(bin: string): Promise<string> {
  const out = (await run(bin, ["--version"])).trim();
  return /version: (.+)$/m.exec(out)?.[1] ?? out;
}

export type RunningTile38 = RunningService & { port: number };

/** Starts tile38-server on 127.0.0.1 with persistence off; resolves once it answers PING. */
export async function start(opts: { bin: string; dataDir: string; port?: number }): Promise<RunningTile38> {
  await Deno.mkdir(opts.dataDir, { recursive: true });
  const server = await startLocalServer({
    name: "tile38",
    bin: opts.bin,
    // -q: no per-command logging; --appendonly no: the benchmark measures the index,
    // not the append-only file Tile38 otherwise writes every SET to.
    args: (port) => ["-h", "127.0.0.1", "-p", String(port), "-d", opts.dataDir, "-q", "--appendonly", "no"],
    logFile: `${opts.dataDir}/tile38.log`,
    port: opts.port,
    ready: (port) => pingResp(port, "PONG"),
    readyTimeoutMs: READY_TIMEOUT_MS,
    stopGraceMs: STOP_GRACE_MS,
    portInUse: /address already in use/i,
    freePort,
  });
  return { name: "tile38", ...server, env: { TILE38_URL: `redis://127.0.0.1:${server.port}` } };
}
