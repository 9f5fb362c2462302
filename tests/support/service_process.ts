/**
 * Runs `main.ts` as a real child process, exactly as `deno task start` would, on a free
 * 127.0.0.1 port with a throwaway data dir, and waits until /readyz says ready.
 */

import { freePort } from "../../scripts/services/service.ts";
import { GENEROUS_LIMITS } from "./app.ts";

const ROOT = new URL("../../", import.meta.url);

export interface ServiceProcess {
  url: string;
  dataDir: string;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  /** Sends a signal and waits for the exit code. */
  stop(signal?: Deno.Signal): Promise<number>;
}

export async function startServiceProcess(
  env: Record<string, string> = {},
  timeoutMs = 30_000,
  /** Extra `deno run` flags, e.g. ["--inspect=127.0.0.1:9229"] for profiling. */
  denoFlags: string[] = [],
): Promise<ServiceProcess> {
  const port = freePort();
  const dataDir = env.DATA_DIR ?? await Deno.makeTempDir({ prefix: "alertcircle-e2e-" });
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", ...denoFlags, "main.ts"],
    cwd: ROOT,
    // Only what the test says: an engine variable leaking in from the shell would change the mode under test.
    clearEnv: true,
    env: {
      PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
      HOME: Deno.env.get("HOME") ?? "/tmp",
      DENO_DIR: Deno.env.get("DENO_DIR") ?? `${Deno.env.get("HOME") ?? "/tmp"}/.cache/deno`,
      HOST: "127.0.0.1",
      PORT: String(port),
      DATA_DIR: dataDir,
      SIMULATE: "off",
      LOG_LEVEL: "info",
      ...GENEROUS_LIMITS,
      ...env,
    },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let text = "";
  const decoder = new TextDecoder();
  const collect = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream) text += decoder.decode(chunk, { stream: true });
  };
  const collecting = Promise.all([collect(child.stdout), collect(child.stderr)]);
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  child.status.then(() => exited = true);
  for (;;) {
    if (exited) throw new Error(`service exited during start-up:\n${text}`);
    try {
      const res = await fetch(`${url}/readyz`);
      await res.body?.cancel();
      if (res.ok) break;
    } catch { /* not listening yet */ }
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`service not ready within ${timeoutMs} ms:\n${text}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    dataDir,
    output: () => text,
    async stop(signal: Deno.Signal = "SIGTERM") {
      if (!exited) child.kill(signal);
      const status = await child.status;
      await collecting;
      return status.code;
    },
  };
}
