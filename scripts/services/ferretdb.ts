/**
 * FerretDB (MongoDB wire protocol in front of SQLite) for tests and benchmarks.
 *
 * `provision(cacheDir)` builds the `ferretdb` binary from the Go module proxy once;
 * `start(options)` runs it on 127.0.0.1 with the SQLite backend and waits until the
 * `mongodb` driver can really write and read.
 *
 * What npm:mongodb 7.9.1 can and cannot do against FerretDB 1.24.2 + SQLite, measured
 * on a 2-core VM with 10,000-document collections (times vary with load):
 *
 * Root causes (from FerretDB's source and `explain`): the SQLite backend pushes down
 * only a filter that is exactly `{_id: <string|ObjectId>}`; every other filter reads
 * the whole table and filters in Go. Even the `_id` query is a table SCAN in SQLite
 * (its unique index is on a different JSON expression), so every lookup, including
 * the one inside each upsert, costs O(collection size). Secondary indexes are created
 * and enforce `unique`, but queries never use them.
 *
 * - createIndex({cell: 1, seenAt: 1}) and a unique index: accepted; listed by
 *   listIndexes; duplicates fail with E11000 (code 11000). A unique index on an array
 *   field compares whole arrays (["a","b"] and ["b","c"] both insert).
 * - createIndex with expireAfterSeconds: MongoServerError code 238 NotImplemented,
 *   `Index option "expireAfterSeconds" is not implemented yet`. collMod: also 238.
 *   2dsphere: code 27 IndexNotFound, `can't find index with key: { loc: "2dsphere" }`.
 * - bulkWrite of updateOne+upsert ({ordered: false}, 10,000 docs, filter {_id}):
 *   as one command it did not finish in 15 min; in chunks of 99 ops it took 280 s
 *   inserting into an empty collection and 784 s updating the 10,000 existing docs.
 *   With a non-_id filter it is quadratic per command: 1,000 ops 36 s, 2,000 ops 150 s.
 *   insertMany of 10,000 new documents: 0.3 s.
 * - HANG: an `update` command with 100 or more ops that match a document never
 *   returns (99 works). Each op keeps its SQLite cursor open until the command ends
 *   and the pool has 100 connections. Keep bulkWrite batches of updates at <= 99 ops,
 *   less when other commands run at the same time (they share the pool); 50 is a
 *   sane limit. A batch of 150 deleteOne ops works.
 * - Write errors in an update batch: FerretDB stops at the first error whatever
 *   `ordered` says, reports writeErrors[0].index = 0 and zero matched/upserted counts
 *   even when earlier ops were applied; later ops are dropped. (insertMany honours
 *   ordered: false and reports the right index.)
 * - find({cell: {$in: [20 numbers]}, seenAt: {$gte: Date}}): correct, 0.4-0.8 s on
 *   10,000 docs (full scan). findOne/updateOne by _id: 65/114 ms; by another field:
 *   0.76/0.67 s. countDocuments and estimatedDocumentCount both scan (0.4-0.8 s).
 * - updateOne with $setOnInsert / $inc / $max and upsert: correct, MongoDB semantics.
 * - findOneAndUpdate lease ({_id, $or: [{expiresAt: {$lt: now}}, {holder: me}]},
 *   $set, upsert, returnDocument "after"): acquires when absent or expired, renews for
 *   the holder, and a held lease fails with E11000 DuplicateKey (code 11000) exactly
 *   like MongoDB, so catch 11000 as "not acquired".
 * - deleteMany({seenAt: {$lt: Date}}): correct, 1,000 of 10,000 in 0.4-0.6 s.
 * - Array fields: {notified: "user-1"}, $ne, $all, $elemMatch are correct; an index on
 *   the array field is accepted but unused (SCAN). $addToSet, $pull and $pop work.
 * - $push with $each works, but $slice, $sort and $position are SILENTLY IGNORED
 *   (values are appended, the array is not trimmed). Pipeline updates fail with code
 *   14 TypeMismatch and a `{$slice: n}` projection with 238, so trim in the client
 *   (read, then $set the whole array) or with $pop.
 * - Change streams (collection.watch()): code 238, `aggregate` stage "$changeStream"
 *   is not implemented yet. Transactions: code 9 FailedToParse, `insert: unknown field
 *   "autocommit"`. endSessions: 59 CommandNotFound (the driver ignores it on close).
 * - listIndexes: works ({v: 2, key, name, unique}).
 * - hello: {isWritablePrimary: true, maxWireVersion: 21, ...}, nothing FerretDB-specific.
 *   buildInfo: version "7.0.42" (a fake MongoDB version), gitVersion = FerretDB commit,
 *   plus `ferretdbVersion: "v1.24.2"` and `ferretdbFeatures`; serverStatus also has
 *   `ferretdbVersion`. Detect FerretDB with `"ferretdbVersion" in buildInfo`.
 */

import { cp } from "node:fs/promises";
import { pathToFileURL } from "node:url";
import { MongoClient } from "mongodb";
import { freePort, isAlive, type RunningService, type StartOptions, stopPid } from "./service.ts";

/** FerretDB release built by `provision` (module tag is `v` + this). */
export const FERRETDB_VERSION = "1.24.2";

const MODULE = "github.com/FerretDB/FerretDB";
const READY_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 10_000;

function log(message: string): void {
  console.log(`[ferretdb] ${message}`);
}

function installDir(cacheDir: string): string {
  return `${cacheDir}/ferretdb-${FERRETDB_VERSION}`;
}

function binaryPath(cacheDir: string): string {
  return `${installDir(cacheDir)}/bin/ferretdb`;
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  }
}

/** Runs a Go command, streaming its stderr (download/compile errors) to ours. */
async function go(
  args: string[],
  cwd: string,
  env: Record<string, string>,
): Promise<string> {
  let output: Deno.CommandOutput;
  try {
    output = await new Deno.Command("go", {
      args,
      cwd,
      env,
      stdin: "null",
      stdout: "piped",
      stderr: "inherit",
    }).output();
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      throw new Error(
        "`go` is not on PATH; FerretDB is built from source with Go",
      );
    }
    throw err;
  }
  if (!output.success) {
    throw new Error(
      `go ${args.join(" ")} failed with exit code ${output.code}`,
    );
  }
  return new TextDecoder().decode(output.stdout);
}

/** Deletes scratch folders of builds whose process died (each can hold ~650 MB). */
async function removeAbandonedBuilds(dir: string): Promise<void> {
  try {
    for await (const entry of Deno.readDir(dir)) {
      const pid = Number(/^build-(\d+)$/.exec(entry.name)?.[1]);
      if (pid && (pid === Deno.pid || !isAlive(pid))) {
        await Deno.remove(`${dir}/${entry.name}`, { recursive: true });
      }
    }
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
}

/**
 * Builds `<cacheDir>/ferretdb-<version>/bin/ferretdb`; returns at once if it exists.
 *
 * A plain `go install …/cmd/ferretdb@v1.24.2` compiles, but the binary panics at
 * start-up: FerretDB embeds `build/version/version.txt`, which only its release
 * tooling generates. So the module source is copied out of the module cache, the
 * file is written, and `go build` runs inside that copy. No build tags: that gives
 * the production flavour (non-debug, PostgreSQL and SQLite backends compiled in).
 */
export async function provision(cacheDir: string): Promise<void> {
  const bin = binaryPath(cacheDir);
  if (await isFile(bin)) return;

  const started = performance.now();
  // A per-process scratch folder keeps concurrent provisions from clobbering each
  // other; the final rename is atomic, so readers never see a half-written binary.
  const work = `${installDir(cacheDir)}/build-${Deno.pid}`;
  await removeAbandonedBuilds(installDir(cacheDir));
  await Deno.mkdir(`${installDir(cacheDir)}/bin`, { recursive: true });
  await Deno.mkdir(work, { recursive: true });

  const env = {
    // A private module cache (≈650 MB of dependency sources) that is deleted after
    // the build, so nothing piles up in ~/go; -modcacherw makes it deletable.
    GOMODCACHE: `${work}/gomod`,
    GOFLAGS: "-modcacherw -buildvcs=false",
    GOWORK: "off",
    // FerretDB's SQLite driver (modernc.org/sqlite) is pure Go, so no C toolchain
    // is needed and the binary is static.
    CGO_ENABLED: "0",
  };

  try {
    log(`downloading ${MODULE}@v${FERRETDB_VERSION} from the Go module proxy`);
    const info = JSON.parse(
      await go(
        ["mod", "download", "-json", `${MODULE}@v${FERRETDB_VERSION}`],
        work,
        env,
      ),
    ) as { Dir?: string; Error?: string; Origin?: { Hash?: string } };
    if (!info.Dir) {
      throw new Error(
        `go mod download: ${info.Error ?? "no module directory"}`,
      );
    }

    const src = `${work}/src`;
    // Thanks to -modcacherw the copied files are writable.
    await cp(info.Dir, src, { recursive: true });
    await Deno.writeTextFile(
      `${src}/build/version/version.txt`,
      `v${FERRETDB_VERSION}\n`,
    );
    if (info.Origin?.Hash) {
      await Deno.writeTextFile(
        `${src}/build/version/commit.txt`,
        `${info.Origin.Hash}\n`,
      );
    }

    log(
      "compiling cmd/ferretdb (first time: a few minutes, dependencies download)",
    );
    const tmpBin = `${bin}.${Deno.pid}.tmp`;
    await go(["build", "-trimpath", "-o", tmpBin, "./cmd/ferretdb"], src, env);

    // Catch a broken build here rather than as a confusing start-up failure later.
    const version = await new Deno.Command(tmpBin, { args: ["--version"] })
      .output();
    const versionText = new TextDecoder().decode(version.stdout);
    if (
      !version.success || !versionText.includes(`version: v${FERRETDB_VERSION}`)
    ) {
      throw new Error(
        `built ferretdb reports an unexpected version:\n${versionText}`,
      );
    }
    await Deno.rename(tmpBin, bin);
  } finally {
    await Deno.remove(work, { recursive: true }).catch(() => {});
  }
  log(`built ${bin} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function logTail(path: string, lines = 40): Promise<string> {
  try {
    return (await Deno.readTextFile(path)).trimEnd().split("\n").slice(-lines)
      .join("\n");
  } catch {
    return "(no log written)";
  }
}

/** One full write/read round trip through the real driver: listening is not enough. */
async function probe(uri: string): Promise<void> {
  const client = new MongoClient(uri, {
    directConnection: true,
    serverSelectionTimeoutMS: 1_000,
    connectTimeoutMS: 1_000,
  });
  try {
    await client.connect();
    const db = client.db("alertcircle_readiness");
    const marker = crypto.randomUUID();
    await db.collection("probe").insertOne({ marker });
    const found = await db.collection("probe").findOne({ marker });
    if (found?.marker !== marker) {
      throw new Error("inserted probe document was not read back");
    }
    await db.dropDatabase();
  } finally {
    await client.close();
  }
}

/**
 * Starts FerretDB with SQLite files in `<dataDir>/sqlite/` and its log in
 * `<dataDir>/ferretdb.log`. With `detached`, the server gets its own session and
 * outlives this process; `stop()` (or SIGTERM to `pid`) ends it.
 */
export async function start(
  opts: StartOptions & { detached?: boolean },
): Promise<RunningService> {
  const bin = binaryPath(opts.cacheDir);
  if (!(await isFile(bin))) {
    throw new Error(`${bin} is missing; run provision(cacheDir) first`);
  }
  await Deno.mkdir(opts.dataDir, { recursive: true });
  // Absolute, so the file: URL and state dir do not depend on the cwd.
  const dataDir = await Deno.realPath(opts.dataDir);
  const sqliteDir = `${dataDir}/sqlite/`;
  await Deno.mkdir(sqliteDir, { recursive: true });
  await Deno.mkdir(`${dataDir}/state`, { recursive: true });
  const logFile = `${dataDir}/ferretdb.log`;
  const port = opts.port || freePort();

  const args = [
    "--handler=sqlite",
    // pathToFileURL percent-encodes odd characters; FerretDB decodes them again.
    `--sqlite-url=${pathToFileURL(sqliteDir).href}`,
    `--listen-addr=127.0.0.1:${port}`,
    // The metrics/pprof listener defaults to the fixed port 8088, which would
    // collide between parallel instances; tests do not need it.
    "--debug-addr=-",
    `--state-dir=${dataDir}/state`,
    "--telemetry=disable",
    "--log-level=info",
  ];

  // The shell only redirects output into the log file and then execs, so the child
  // pid is FerretDB's own. A file (not a pipe) lets a detached server keep logging
  // after this process is gone.
  const child = new Deno.Command("sh", {
    args: [
      "-c",
      'exec "$0" "$@" >>"$FERRETDB_LOG" 2>&1 </dev/null',
      bin,
      ...args,
    ],
    env: { FERRETDB_LOG: logFile },
    stdin: "null",
    stdout: "null",
    stderr: "null",
    // setsid() in the child: no controlling terminal, own process group, so Ctrl-C
    // or the parent's exit does not reach it.
    detached: opts.detached ?? false,
  }).spawn();
  // Never keep this process alive just for the server: a detached one lives on by
  // itself, an attached one is terminated on exit (below).
  child.unref();

  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });
  const pid = child.pid;
  const uri = `mongodb://127.0.0.1:${port}/`;
  // An attached server must not outlive a script or test run that ends without
  // calling stop() (failed assertion, Deno.exit): SIGTERM it when this process exits.
  const terminateOnExit = () => {
    try {
      Deno.kill(pid, "SIGTERM");
    } catch {
      // already gone
    }
  };
  if (!opts.detached) globalThis.addEventListener("unload", terminateOnExit);
  const stop = async () => {
    await stopPid(pid, { graceMs: STOP_GRACE_MS, exited: () => exited });
    globalThis.removeEventListener("unload", terminateOnExit);
  };

  const started = performance.now();
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let lastError: unknown;
  while (true) {
    if (exited) {
      const { code, signal } = await status;
      throw new Error(
        `ferretdb exited during start-up (code ${code}, signal ${signal}); ` +
          `log ${logFile}:\n${await logTail(logFile)}`,
      );
    }
    try {
      await probe(uri);
      break;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(
        `ferretdb on ${uri} not ready after ${READY_TIMEOUT_MS / 1000} s ` +
          `(last error: ${lastError}); log ${logFile}:\n${await logTail(
            logFile,
          )}`,
      );
    }
    await sleep(200);
  }
  log(
    `ready on ${uri} (pid ${pid}) in ${((performance.now() - started) / 1000).toFixed(2)} s`,
  );

  return { name: "ferretdb", pid, env: { MONGODB_URI: uri }, stop };
}
