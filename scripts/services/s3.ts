/**
 * S3-compatible object store for integration tests and `services:up`:
 * Versity S3 Gateway (versitygw) v1.8.0 with its `posix` backend, i.e. buckets
 * are folders and objects are files under `<dataDir>/s3/objects`.
 *
 * Why versitygw (compared 2026-12):
 * - Apache-2.0 and actively maintained (v1.8.0 tagged 2026-09, regular
 *   releases, its own S3 compatibility test suite upstream).
 * - A real object store, not a mock: SigV4 with static keys, CRC32 checksums,
 *   ListObjectsV2 with prefixes, overwrite semantics; s3_test.ts checks them.
 * - One static Go binary, one listening port (admin API shares it; WebUI,
 *   website and pprof listeners stay off unless asked for).
 * - Builds from the Go module proxy with a plain `go install …@v1.8.0`
 *   (~2-4 min cold on 2 cores, mostly the AWS/Azure SDK dependencies).
 * Rejected: MinIO (AGPL-3.0; upstream went source-only in 2025 and archived
 * the repository in 2026, so no fixes); Garage (on crates.io, but AGPL-3.0
 * and a long Rust build); SeaweedFS (Apache-2.0, but only untagged
 * pseudo-versions on the proxy, a go.mod with `replace` directives so
 * `go install …@version` is refused, ~500 dependencies, and master, volume,
 * filer and gRPC ports to pin down); gofakes3 and moto (in-memory mocks, and
 * the project rule is "never a mock of S3").
 *
 * Build: `go install github.com/versity/versitygw/cmd/versitygw@v1.8.0` with
 * GOBIN inside the cache, CGO off so the binary is static; needs Go >= 1.25.
 */

import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { exists, freePort, type RunningService, type StartOptions } from "./service.ts";

export const S3_SERVER = { name: "versitygw", version: "1.8.0" } as const;

const MODULE = "github.com/versity/versitygw";
const ACCESS_KEY = "alertcircle";
const SECRET_KEY = "alertcircle-secret";
const REGION = "us-east-1";
const DEFAULT_BUCKET = "alertcircle-archive";
const READY_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 10_000;

function installDir(cacheDir: string): string {
  return `${cacheDir}/${S3_SERVER.name}-${S3_SERVER.version}`;
}

function binaryPath(cacheDir: string): string {
  return `${installDir(cacheDir)}/bin/${S3_SERVER.name}`;
}

/** Builds versitygw into `<cacheDir>/versitygw-<ver>/bin`; a no-op once built. */
export async function provision(cacheDir: string): Promise<void> {
  const bin = binaryPath(cacheDir);
  if (await exists(bin)) return;

  const goVersion = await new Deno.Command("go", {
    args: ["env", "GOVERSION"],
    stdout: "piped",
    stderr: "piped",
  }).output().catch(() => null);
  if (!goVersion?.success) {
    throw new Error(
      "s3: `go` not found; versitygw is built from source and needs Go >= 1.25",
    );
  }
  const [major, minor] = new TextDecoder().decode(goVersion.stdout).trim()
    .replace(/^go/, "").split(".").map(Number);
  if (major < 1 || (major === 1 && minor < 25)) {
    throw new Error("s3: versitygw v1.8.0 needs Go >= 1.25");
  }

  // Build into a private folder and rename at the end, so an interrupted or
  // concurrent provision never leaves a half-written binary at `bin`.
  const dir = installDir(cacheDir);
  await Deno.mkdir(dir, { recursive: true });
  const tmpBin = await Deno.makeTempDir({ dir, prefix: "bin.tmp-" });
  const started = performance.now();
  console.log(
    `s3: building ${S3_SERVER.name} v${S3_SERVER.version} with go install ` +
      "(first run only, ~3 min on 2 cores)…",
  );
  const ldflags = `-s -w -X=main.Version=v${S3_SERVER.version}` +
    " -X=main.Build=go-install";
  const build = await new Deno.Command("go", {
    args: [
      "install",
      "-trimpath",
      `-ldflags=${ldflags}`,
      `${MODULE}/cmd/versitygw@v${S3_SERVER.version}`,
    ],
    env: {
      GOBIN: tmpBin,
      CGO_ENABLED: "0",
      // A toolchain download would fail here; use the installed Go.
      GOTOOLCHAIN: "local",
      GOFLAGS: "-buildvcs=false",
    },
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  if (!build.success) {
    await Deno.remove(tmpBin, { recursive: true }).catch(() => {});
    throw new Error(`s3: go install of versitygw failed (exit ${build.code})`);
  }
  await Deno.mkdir(`${dir}/bin`, { recursive: true });
  await Deno.rename(`${tmpBin}/versitygw`, bin);
  await Deno.remove(tmpBin, { recursive: true });
  const secs = ((performance.now() - started) / 1000).toFixed(0);
  console.log(`s3: built ${bin} in ${secs} s`);
}

/** True while `pid` is a live process (a zombie counts as gone). */
function isAlive(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    // Field 3, after the parenthesised command name, is the state letter.
    const state = stat.slice(
      stat.lastIndexOf(")") + 2,
      stat.lastIndexOf(")") + 3,
    );
    return state !== "Z" && state !== "X";
  } catch {
    return false;
  }
}

async function logTail(logFile: string, lines = 40): Promise<string> {
  const text = await Deno.readTextFile(logFile).catch(() => "(no log)");
  return text.trimEnd().split("\n").slice(-lines).join("\n");
}

function s3Client(endpoint: string): S3Client {
  return new S3Client({
    endpoint,
    region: REGION,
    forcePathStyle: true,
    credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY },
    // The readiness loop does its own retrying; SDK back-off only slows it.
    maxAttempts: 1,
  });
}

/**
 * One full round trip, the same calls AlertCircle makes: the bucket exists
 * (created if needed), and an object can be written, listed, read and deleted.
 * `signal` bounds it: a socket that accepts but never answers (another
 * listener on the port) would otherwise hang the SDK with no timeout.
 */
async function roundTrip(
  endpoint: string,
  bucket: string,
  signal: AbortSignal,
): Promise<void> {
  const client = s3Client(endpoint);
  const opts = { abortSignal: signal };
  try {
    try {
      await client.send(new HeadBucketCommand({ Bucket: bucket }), opts);
    } catch (err) {
      if (signal.aborted) throw err;
      await client.send(new CreateBucketCommand({ Bucket: bucket }), opts);
    }
    const key = ".alertcircle-readiness/probe";
    const body = `ready ${Date.now()}`;
    await client.send(
      new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }),
      opts,
    );
    const listed = await client.send(
      new ListObjectsV2Command({
        Bucket: bucket,
        Prefix: ".alertcircle-readiness/",
      }),
      opts,
    );
    if (!listed.Contents?.some((o) => o.Key === key)) {
      throw new Error("probe object missing from ListObjectsV2");
    }
    const got = await client.send(
      new GetObjectCommand({ Bucket: bucket, Key: key }),
      opts,
    );
    const text = await got.Body?.transformToString();
    if (text !== body) {
      throw new Error(`probe read back ${JSON.stringify(text)}`);
    }
    // Leave the bucket empty so tests listing it see only their own objects.
    await client.send(
      new DeleteObjectCommand({ Bucket: bucket, Key: key }),
      opts,
    );
  } finally {
    client.destroy();
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Starts versitygw on 127.0.0.1 and resolves once the AWS SDK can create the
 * bucket and write, list and read an object. With `detached`, the server gets
 * its own session and outlives this process; stop it later by pid.
 * The posix backend keeps object metadata (ETag, content type, checksums) in
 * user xattrs, so `dataDir` must be on a filesystem that has them (ext4, xfs,
 * btrfs, and tmpfs on Linux >= 6.6 do).
 */
export async function start(
  opts: StartOptions & { detached?: boolean; bucket?: string },
): Promise<RunningService> {
  const bin = binaryPath(opts.cacheDir);
  if (!(await exists(bin))) {
    throw new Error(`s3: ${bin} missing; run provision(cacheDir) first`);
  }
  const bucket = opts.bucket ?? DEFAULT_BUCKET;
  const home = `${opts.dataDir}/s3`;
  const objects = `${home}/objects`;
  const logFile = `${home}/versitygw.log`;
  await Deno.mkdir(objects, { recursive: true });

  // A port picked by freePort can be taken before the server binds it; only
  // then is another pick worth trying.
  const attempts = opts.port ? 1 : 3;
  for (let attempt = 1;; attempt++) {
    const port = opts.port || freePort();
    const endpoint = `http://127.0.0.1:${port}`;
    const started = performance.now();
    const child = new Deno.Command("/bin/sh", {
      // exec keeps the pid the server's own; output goes straight to the log
      // file so nothing ties the server to this process's pipes.
      args: [
        "-c",
        'log="$1"; shift; exec "$@" >>"$log" 2>&1',
        "sh",
        logFile,
        bin,
        "--port",
        `127.0.0.1:${port}`,
        "--access",
        ACCESS_KEY,
        "--secret",
        SECRET_KEY,
        "--region",
        REGION,
        "posix",
        objects,
      ],
      // versitygw reads many VGW_* / ROOT_* variables (WebUI, admin and
      // pprof listeners, IAM backends); a stray one must not open a port.
      clearEnv: true,
      env: { PATH: "/usr/bin:/bin", HOME: home },
      cwd: home,
      stdin: "null",
      stdout: "null",
      stderr: "null",
      detached: opts.detached ?? false,
    }).spawn();
    const pid = child.pid;
    let exited = false;
    const exit = new AbortController();
    const status = child.status.finally(() => {
      exited = true;
      exit.abort(new Error("server process exited"));
    });
    if (opts.detached) child.unref();

    const stop = async (): Promise<void> => {
      if (exited || !isAlive(pid)) return;
      try {
        Deno.kill(pid, "SIGTERM");
      } catch { /* already gone */ }
      const deadline = Date.now() + STOP_GRACE_MS;
      while (!exited && isAlive(pid) && Date.now() < deadline) await sleep(50);
      if (!exited && isAlive(pid)) {
        try {
          Deno.kill(pid, "SIGKILL");
        } catch { /* already gone */ }
      }
      // Reap it, so the pid really disappears while this process lives.
      await status;
    };

    let ready = false;
    let lastError: unknown;
    const deadline = started + READY_TIMEOUT_MS;
    while (!ready && !exited && performance.now() < deadline) {
      const budget = Math.min(5_000, deadline - performance.now());
      try {
        await roundTrip(
          endpoint,
          bucket,
          AbortSignal.any([exit.signal, AbortSignal.timeout(budget)]),
        );
        ready = true;
      } catch (err) {
        lastError = err;
        await sleep(100);
      }
    }
    if (ready) {
      const ms = (performance.now() - started).toFixed(0);
      console.log(
        `s3: ${S3_SERVER.name} ready on ${endpoint} (pid ${pid}) in ${ms} ms`,
      );
      return {
        name: "s3",
        pid,
        env: {
          S3_ENDPOINT: endpoint,
          S3_BUCKET: bucket,
          S3_REGION: REGION,
          AWS_ACCESS_KEY_ID: ACCESS_KEY,
          AWS_SECRET_ACCESS_KEY: SECRET_KEY,
        },
        stop,
      };
    }

    const diedEarly = exited;
    await stop();
    const tail = await logTail(logFile);
    if (
      diedEarly && attempt < attempts && /address already in use/.test(tail)
    ) {
      continue;
    }
    const why = diedEarly
      ? `exited with code ${(await status).code}`
      : `not ready after ${READY_TIMEOUT_MS / 1000} s (last error: ${
        lastError instanceof Error ? lastError.message : String(lastError)
      })`;
    throw new Error(`s3: ${S3_SERVER.name} ${why}; ${logFile} ends:\n${tail}`);
  }
}
