/**
 * `deno task services:up`: provisions and starts Kafka, FerretDB and the S3 server in
 * the background on 127.0.0.1, and writes their settings to data/services.env, so
 * `set -a; . data/services.env; set +a; deno task start` runs AlertCircle on them.
 * `deno task services:down` stops them.
 */

import { provisionAll, startAll } from "./all.ts";
import { cacheDir } from "./service.ts";
import { STATE_FILE } from "./state.ts";

const root = new URL("../../", import.meta.url).pathname;
const dataDir = `${root}data/services`;
try {
  await Deno.stat(STATE_FILE);
  console.error(`services already up (${STATE_FILE}); run \`deno task services:down\` first`);
  Deno.exit(1);
} catch { /* not running */ }

await provisionAll(cacheDir());
await Deno.mkdir(dataDir, { recursive: true });
const running = await startAll(cacheDir(), dataDir, true);
const lines = Object.entries(running.env).map(([k, v]) => `${k}=${v}`);
await Deno.writeTextFile(`${root}data/services.env`, lines.join("\n") + "\n");
await Deno.writeTextFile(
  STATE_FILE,
  JSON.stringify(running.services.map((s) => ({ name: s.name, pid: s.pid })), null, 2),
);
console.log(`settings written to data/services.env:\n${lines.join("\n")}`);
// The servers are detached: this process may end while they keep running.
Deno.exit(0);
