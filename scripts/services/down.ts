/** `deno task services:down`: stops the servers `services:up` left running. */

import { stopPid as stopKafka } from "./kafka.ts";
import { ENV_FILE, STATE_FILE } from "./state.ts";

let started: Array<{ name: string; pid: number }>;
try {
  started = JSON.parse(await Deno.readTextFile(STATE_FILE));
} catch {
  console.log("no services running (no data/services.json)");
  Deno.exit(0);
}

/** Gone, or a zombie waiting to be reaped, counts as stopped. */
function alive(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

async function stopOther(name: string, pid: number): Promise<void> {
  const cmdline = (() => {
    try {
      return Deno.readTextFileSync(`/proc/${pid}/cmdline`);
    } catch {
      return "";
    }
  })();
  // Pids are reused: only signal the process if it still is the server we started.
  if (!alive(pid) || !cmdline.includes(name === "s3" ? "versitygw" : "ferretdb")) return;
  Deno.kill(pid, "SIGTERM");
  const deadline = Date.now() + 10_000;
  while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  if (alive(pid)) Deno.kill(pid, "SIGKILL");
}

for (const { name, pid } of started) {
  if (name === "kafka") await stopKafka(pid);
  else await stopOther(name, pid);
  console.log(`stopped ${name} (pid ${pid})`);
}
await Deno.remove(STATE_FILE).catch(() => {});
await Deno.remove(ENV_FILE).catch(() => {});
