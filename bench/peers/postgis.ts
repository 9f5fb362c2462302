/**
 * PostgreSQL 15 + PostGIS 3 as a benchmark peer: the SQL answer to "who is within
 * 500 m" (a geography(Point,4326) column, a GiST index, ST_DWithin on the sphere).
 *
 * Both come from Debian (`postgresql-15`, `postgresql-15-postgis-3`), installed once
 * with apt-get. Each `start` makes a private cluster in its own folder (initdb as the
 * `postgres` OS user, because initdb refuses to run as root), listening on 127.0.0.1
 * and on a Unix socket inside that folder (not /var/run/postgresql, so it never meets
 * the system cluster), with durability off: the benchmark measures the index and the
 * query path, not fsync.
 */

import postgres from "postgres";
import { freePort, type RunningService } from "../../scripts/services/service.ts";
import { aptInstall, exists, isAlive, logTail, run, stopPid } from "./proc.ts";

const PG_BIN = "/usr/lib/postgresql/15/bin";
const POSTGIS_CONTROL = "/usr/share/postgresql/15/extension/postgis.control";
const OS_USER = "postgres";
export const DATABASE = "bench";
const START_TIMEOUT_S = 60;
const STOP_GRACE_MS = 15_000;
/** sun_path is 108 bytes with the terminating NUL. */
const MAX_SOCKET_PATH = 107;

/** Installs whichever of postgresql-15 and postgresql-15-postgis-3 is missing (needs root). */
export async function provision(): Promise<void> {
  const missing: string[] = [];
  if (!(await exists(`${PG_BIN}/postgres`))) missing.push("postgresql-15");
  if (!(await exists(POSTGIS_CONTROL))) missing.push("postgresql-15-postgis-3");
  if (missing.length === 0) return;
  await aptInstall("postgis", missing);
  if (!(await exists(`${PG_BIN}/postgres`)) || !(await exists(POSTGIS_CONTROL))) {
    throw new Error("postgis: apt-get reported success but PostgreSQL 15 or PostGIS is still missing");
  }
}

/** Server and extension versions, e.g. { postgresql: "15.18 (Debian …)", postgis: "3.3.2" }. */
export async function versions(url: string): Promise<{ postgresql: string; postgis: string }> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    const [row] = await sql<{ v: string; p: string }[]>`
      SELECT current_setting('server_version') AS v, postgis_lib_version() AS p`;
    return { postgresql: row.v, postgis: row.p };
  } finally {
    await sql.end({ timeout: 5 });
  }
}

export interface PostgisStartOptions {
  /**
   * A fresh folder for the cluster (`<dataDir>/pgdata`), its log and its socket. It is
   * handed to the `postgres` OS user, so every parent must be searchable by others
   * (/tmp is; /root is not), and it must be short (the socket path is limited to 107 bytes).
   * A folder holding a cluster from an earlier start is reused.
   */
  dataDir: string;
  /** Port on 127.0.0.1; 0 or absent picks a free one. */
  port?: number;
}

export type RunningPostgis = RunningService & { port: number; url: string };

/** The server settings, appended to the cluster's postgresql.conf by `start`. */
function settings(socketDir: string): string {
  return [
    "# Added by bench/peers/postgis.ts: a private, throw-away benchmark cluster.",
    "listen_addresses = '127.0.0.1'",
    `unix_socket_directories = '${socketDir.replaceAll("'", "''")}'`,
    // Durability off: a crash loses the data, which a benchmark can reload.
    "fsync = off",
    "synchronous_commit = off",
    "full_page_writes = off",
    // Little WAL for the bulk load, and no checkpoint in the middle of it.
    "wal_level = minimal",
    "max_wal_senders = 0",
    "max_wal_size = 8GB",
    "checkpoint_timeout = 30min",
    // Room to keep a million points and their index in memory, and to build the index.
    "shared_buffers = 512MB",
    "maintenance_work_mem = 512MB",
    "effective_cache_size = 8GB",
    // Millisecond queries should not pay for JIT compilation when an estimate runs high.
    "jit = off",
    "",
  ].join("\n");
}

async function runAsPostgres(cmd: string, args: string[], cwd: string): Promise<string> {
  // cwd is the data folder: root's working directory may be unreadable to `postgres`.
  const out = await new Deno.Command("runuser", {
    args: ["-u", OS_USER, "--", cmd, ...args],
    cwd,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  if (!out.success) throw new Error(`${cmd} ${args.join(" ")} failed (exit ${out.code}):\n${text.trimEnd()}`);
  return text;
}

/** pid of the postmaster: the first line of postmaster.pid. */
async function postmasterPid(pgdata: string): Promise<number> {
  const text = await Deno.readTextFile(`${pgdata}/postmaster.pid`);
  const pid = Number(text.split("\n", 1)[0]);
  if (!Number.isInteger(pid) || pid <= 0) throw new Error(`postgis: bad ${pgdata}/postmaster.pid`);
  return pid;
}

async function createDatabase(port: number): Promise<void> {
  const admin = postgres(`postgres://postgres@127.0.0.1:${port}/postgres`, { max: 1, onnotice: () => {} });
  try {
    const found = await admin`SELECT 1 FROM pg_database WHERE datname = ${DATABASE}`;
    if (found.length === 0) await admin.unsafe(`CREATE DATABASE ${DATABASE}`);
  } finally {
    await admin.end({ timeout: 5 });
  }
  const db = postgres(`postgres://postgres@127.0.0.1:${port}/${DATABASE}`, { max: 1, onnotice: () => {} });
  try {
    await db`CREATE EXTENSION IF NOT EXISTS postgis`;
  } finally {
    await db.end({ timeout: 5 });
  }
}

/**
 * Creates (or reuses) a cluster in `dataDir`, starts it with pg_ctl, and resolves once
 * database `bench` exists with the postgis extension in it.
 */
export async function start(opts: PostgisStartOptions): Promise<RunningPostgis> {
  if (!(await exists(`${PG_BIN}/postgres`)) || !(await exists(POSTGIS_CONTROL))) {
    throw new Error("postgis: PostgreSQL 15 or PostGIS missing; run provision() first");
  }
  if (Deno.uid() !== 0) {
    // initdb refuses root, so it and pg_ctl run as `postgres` through runuser, which needs root.
    throw new Error("postgis: start() must run as root (it runs initdb and pg_ctl as the postgres OS user)");
  }
  const started = performance.now();
  await Deno.mkdir(opts.dataDir, { recursive: true });
  const dataDir = await Deno.realPath(opts.dataDir);
  const pgdata = `${dataDir}/pgdata`;
  const logFile = `${dataDir}/postgres.log`;
  if (`${dataDir}/.s.PGSQL.65535`.length > MAX_SOCKET_PATH) {
    throw new Error(`postgis: ${dataDir} is too long for a Unix socket path; use a shorter dataDir`);
  }

  const uid = Number((await run("id", ["-u", OS_USER])).trim());
  const gid = Number((await run("id", ["-g", OS_USER])).trim());
  await Deno.chown(dataDir, uid, gid);
  try {
    await runAsPostgres("test", ["-w", dataDir, "-a", "-x", dataDir], "/");
  } catch {
    throw new Error(
      `postgis: the ${OS_USER} OS user cannot write ${dataDir}; choose a folder whose parents others may search (e.g. under /tmp)`,
    );
  }

  if (!(await exists(`${pgdata}/PG_VERSION`))) {
    await runAsPostgres(`${PG_BIN}/initdb`, [
      "-D",
      pgdata,
      "-U",
      "postgres",
      "--auth=trust", // local and 127.0.0.1 connections, nothing else listens
      "--encoding=UTF8",
      "--locale=C",
      "--no-sync", // a throw-away cluster: skip initdb's fsyncs (seconds on some disks)
      "--no-instructions",
    ], dataDir);
    const conf = `${pgdata}/postgresql.conf`;
    await Deno.writeTextFile(conf, `\n${settings(dataDir)}`, { append: true });
  }

  // A port from freePort can be taken before the server binds it; only then retry.
  const attempts = opts.port ? 1 : 3;
  for (let attempt = 1;; attempt++) {
    const port = opts.port || freePort();
    try {
      await runAsPostgres(`${PG_BIN}/pg_ctl`, [
        "-D",
        pgdata,
        "-l",
        logFile,
        "-o",
        `-p ${port}`,
        "-w",
        "-t",
        String(START_TIMEOUT_S),
        "start",
      ], dataDir);
    } catch (err) {
      const tail = await logTail(logFile);
      if (attempt < attempts && /already in use/i.test(tail)) continue;
      throw new Error(`postgis: pg_ctl start failed: ${(err as Error).message}\n${logFile} ends:\n${tail}`);
    }
    const pid = await postmasterPid(pgdata);
    // A script that ends without stop() must not leave the cluster running: SIGINT is
    // PostgreSQL's "fast" shutdown (what pg_ctl -m fast sends).
    const fastShutdownOnExit = () => {
      try {
        Deno.kill(pid, "SIGINT");
      } catch { /* already gone */ }
    };
    globalThis.addEventListener("unload", fastShutdownOnExit);
    const stop = async (): Promise<void> => {
      if (isAlive(pid)) {
        await runAsPostgres(`${PG_BIN}/pg_ctl`, ["-D", pgdata, "-m", "fast", "-w", "-t", "30", "stop"], dataDir)
          .catch(() => {/* fall through to signals below */});
      }
      // pg_ctl waits for postmaster.pid to go; make sure the process really has.
      await stopPid(pid, { signal: "SIGINT", graceMs: STOP_GRACE_MS });
      globalThis.removeEventListener("unload", fastShutdownOnExit);
    };

    const url = `postgres://postgres@127.0.0.1:${port}/${DATABASE}`;
    try {
      await createDatabase(port);
    } catch (err) {
      await stop();
      throw new Error(`postgis: cluster started but setting up ${DATABASE} failed: ${(err as Error).message}`);
    }
    console.log(`postgis: ready on 127.0.0.1:${port} (pid ${pid}) in ${(performance.now() - started).toFixed(0)} ms`);
    return { name: "postgis", pid, port, url, env: { DATABASE_URL: url }, stop };
  }
}
