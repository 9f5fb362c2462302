/**
 * `deno task test`: everything a fresh machine needs, then every test. Installs the
 * browser for the browser tests, provisions and starts the real servers the
 * integration tests use (Kafka, FerretDB, the S3 server; their settings reach the tests
 * as TEST_* variables, so nothing switches the app's own mode by accident), runs
 * `deno test`, and stops the servers whatever happened. Extra arguments go to
 * `deno test` (e.g. `deno task test -- --filter e2e`).
 *
 * (Not named test.ts: `deno test` would take that for a test module and run it.)
 */

import { provisionAll, startAll } from "./services/all.ts";
import { cacheDir } from "./services/service.ts";
import { ensureTestPackages } from "./setup/test_packages.ts";

const started = performance.now();
await Promise.all([ensureTestPackages(), provisionAll(cacheDir())]);
const dataDir = await Deno.makeTempDir({ prefix: "alertcircle-services-" });
const services = await startAll(cacheDir(), dataDir);
console.log(`[test] set-up took ${((performance.now() - started) / 1000).toFixed(1)} s`);

const testEnv: Record<string, string> = { LOG_LEVEL: "error", NO_COLOR: "1" };
for (const [k, v] of Object.entries(services.env)) testEnv[`TEST_${k}`] = v;

let code = 1;
try {
  const test = new Deno.Command(Deno.execPath(), {
    // expose-gc: memory tests collect garbage before they measure, so they measure what is kept.
    args: ["test", "-A", "--v8-flags=--expose-gc", ...Deno.args],
    env: testEnv,
    stdout: "inherit",
    stderr: "inherit",
  });
  code = (await test.output()).code;
} finally {
  await services.stop();
  await Deno.remove(dataDir, { recursive: true }).catch(() => {});
}
Deno.exit(code);
