/**
 * Process and package helpers shared by the peer servers in this folder (redis.ts,
 * postgis.ts): Debian package installation, "is this pid still running", and a
 * graceful-then-forceful stop, in the same manner as scripts/services/.
 */

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

// The process helpers the service scripts use too.
export { exists, isAlive, stopPid } from "../../scripts/services/service.ts";
import { isAlive, stopPid } from "../../scripts/services/service.ts";

export async function logTail(path: string, lines = 40): Promise<string> {
  try {
    return (await Deno.readTextFile(path)).trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log written)";
  }
}

/** Runs a command to completion; throws with its output if it fails. */
export async function run(cmd: string, args: string[], opts: { env?: Record<string, string> } = {}): Promise<string> {
  const out = await new Deno.Command(cmd, { args, env: opts.env, stdin: "null", stdout: "piped", stderr: "piped" })
    .output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  if (!out.success) {
    throw new Error(`${cmd} ${args.join(" ")} failed (exit ${out.code}):\n${text.trimEnd().slice(-4000)}`);
  }
  return text;
}

/**
 * Installs Debian packages with apt-get, quietly and without prompts. Needs root: these
 * are benchmark peers on a throw-away machine, not something to sudo into silently.
 * The package lists are refreshed first, since a fresh image often has none.
 */
export async function aptInstall(tag: string, packages: string[]): Promise<void> {
  if (Deno.uid() !== 0) {
    throw new Error(
      `${tag}: ${packages.join(" ")} missing; install them as root (apt-get install ${packages.join(" ")})`,
    );
  }
  const env = { DEBIAN_FRONTEND: "noninteractive" };
  const started = performance.now();
  console.log(`${tag}: apt-get install ${packages.join(" ")} (first run only)…`);
  await run("apt-get", ["update", "-qq"], { env });
  await run("apt-get", ["install", "-y", "-qq", "--no-install-recommends", ...packages], { env });
  console.log(`${tag}: installed in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

export interface LocalServer {
  pid: number;
  port: number;
  stop(): Promise<void>;
}

/**
 * Starts a server binary on 127.0.0.1 with its output appended to `logFile`, and
 * resolves once `ready(port)` succeeds. A port picked free can be taken by someone
 * else before the server binds it; when the log says so (`portInUse`), it tries
 * another. The server is stopped when this process unloads, whatever the caller does.
 */
export async function startLocalServer(o: {
  name: string;
  bin: string;
  args: (port: number) => string[];
  logFile: string;
  /** Port on 127.0.0.1; 0 or absent picks a free one. */
  port?: number;
  ready: (port: number) => Promise<void>;
  readyTimeoutMs: number;
  stopGraceMs: number;
  portInUse: RegExp;
  freePort: () => number;
}): Promise<LocalServer> {
  const attempts = o.port ? 1 : 3;
  for (let attempt = 1;; attempt++) {
    const port = o.port || o.freePort();
    const started = performance.now();
    const child = new Deno.Command("/bin/sh", {
      // exec keeps the pid the server's own; errors printed before the server opens its
      // own log land in the same file.
      args: ["-c", 'log="$1"; shift; exec "$@" >>"$log" 2>&1', "sh", o.logFile, o.bin, ...o.args(port)],
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
      await stopPid(pid, { graceMs: o.stopGraceMs, exited: () => exited });
      await status; // reap it, so the pid really disappears while this process lives
      globalThis.removeEventListener("unload", terminateOnExit);
    };

    let lastError: unknown;
    const deadline = started + o.readyTimeoutMs;
    while (!exited && performance.now() < deadline) {
      try {
        await o.ready(port);
        console.log(
          `${o.name}: ready on 127.0.0.1:${port} (pid ${pid}) in ${(performance.now() - started).toFixed(0)} ms`,
        );
        return { pid, port, stop };
      } catch (err) {
        lastError = err;
        await sleep(25);
      }
    }

    const diedEarly = exited || !isAlive(pid);
    await stop();
    const tail = await logTail(o.logFile);
    if (diedEarly && attempt < attempts && o.portInUse.test(tail)) continue;
    const why = diedEarly
      ? `exited with code ${(await status).code}`
      : `not ready after ${o.readyTimeoutMs / 1000} s (last error: ${
        lastError instanceof Error ? lastError.message : String(lastError)
      })`;
    throw new Error(`${o.name}: ${why}; ${o.logFile} ends:\n${tail}`);
  }
}
