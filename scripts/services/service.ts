/**
 * Shared shape of the real servers that tests, benchmarks and `deno task services:up`
 * start on 127.0.0.1: Apache Kafka, a MongoDB wire-protocol server (FerretDB) and an
 * S3-compatible object store. Each one lives in its own file and exports
 * `provision(cacheDir)` (download/build once, cached) and `start(options)`.
 */

/** Where downloads and builds are cached between runs (never committed). */
export function cacheDir(): string {
  return Deno.env.get("ALERTCIRCLE_CACHE") ??
    `${Deno.env.get("HOME") ?? "."}/.cache/alertcircle`;
}

export interface StartOptions {
  /** Cache folder holding what `provision` fetched or built. */
  cacheDir: string;
  /** A fresh folder the server may keep its data and logs in. */
  dataDir: string;
  /** Port on 127.0.0.1; 0 or absent picks a free one. */
  port?: number;
}

export interface RunningService {
  name: string;
  /** Process id of the server (so `services:down` can stop a detached one). */
  pid: number;
  /** Connection settings for AlertCircle, e.g. { KAFKA_BROKERS: "127.0.0.1:9092" }. */
  env: Record<string, string>;
  /** Stops the server and waits for the process to exit. */
  stop(): Promise<void>;
}

/** Asks the kernel for a free TCP port on loopback. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** Whether a file or folder exists (other errors, e.g. permissions, still throw). */
export async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  }
}

/** True while `pid` is a live process; a zombie counts as gone (nobody may reap it). */
export function isAlive(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    // Field 3, after the parenthesised command name (which may hold spaces), is the state.
    const state = stat.charAt(stat.lastIndexOf(")") + 2);
    return state !== "Z" && state !== "X";
  } catch {
    return false;
  }
}

/**
 * Sends `signal`, waits up to `graceMs` for the process to go, then SIGKILLs it and
 * waits again. `exited` lets a caller that holds the child's status short-cut the poll.
 */
export async function stopPid(
  pid: number,
  opts: { signal?: Deno.Signal; graceMs?: number; exited?: () => boolean } = {},
): Promise<void> {
  const gone = () => (opts.exited?.() ?? false) || !isAlive(pid);
  if (gone()) return;
  try {
    Deno.kill(pid, opts.signal ?? "SIGTERM");
  } catch {
    return; // exited between the check and the signal
  }
  const deadline = Date.now() + (opts.graceMs ?? 10_000);
  while (!gone() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
  if (gone()) return;
  try {
    Deno.kill(pid, "SIGKILL");
  } catch {
    return;
  }
  while (!gone()) await new Promise((r) => setTimeout(r, 25));
}
