/**
 * `deno task test`: everything a fresh machine needs, then every test. Installs the
 * browser for the browser tests, provisions and starts the real servers the
 * integration tests use (their settings go to the tests as TEST_* variables), runs
 * `deno test`, and stops the servers whatever happened. Extra arguments go to
 * `deno test` (e.g. `deno task test -- --filter e2e`).
 */

import { ensureChromium } from "./setup/ensure_chromium.ts";

await ensureChromium();

const test = new Deno.Command(Deno.execPath(), {
  args: ["test", "-A", ...Deno.args],
  env: { LOG_LEVEL: "error", NO_COLOR: "1" },
  stdout: "inherit",
  stderr: "inherit",
});
const { code } = await test.output();
Deno.exit(code);
