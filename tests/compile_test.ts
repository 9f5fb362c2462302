/**
 * The single binary: `deno task compile` (through scripts/compile.ts), then the binary
 * itself serves /healthz, the dashboard and its embedded assets. It needs Deno's
 * `denort` runtime, which cannot be downloaded here, so it runs where DENORT_BIN points
 * to one and is skipped otherwise.
 */

import assert from "node:assert/strict";
import { freePort } from "../scripts/services/service.ts";

const denort = Deno.env.get("DENORT_BIN");

Deno.test({
  name: "compile: the binary starts, answers /healthz and serves the dashboard from its embedded files",
  ignore: !denort,
  async fn() {
    const dir = await Deno.makeTempDir();
    const binary = `${dir}/alertcircle`;
    const build = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "scripts/compile.ts", binary],
      cwd: new URL("../", import.meta.url),
      env: { DENORT_BIN: denort! },
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(build.code, 0, new TextDecoder().decode(build.stderr));
    const port = freePort();
    // Run from elsewhere: the assets must come from inside the binary, not the checkout.
    const child = new Deno.Command(binary, {
      cwd: dir,
      env: { PORT: String(port), HOST: "127.0.0.1", SIMULATE: "off", DATA_DIR: `${dir}/data` },
      stdout: "null",
      stderr: "null",
    }).spawn();
    try {
      const url = `http://127.0.0.1:${port}`;
      let health: Response | undefined;
      for (let i = 0; i < 100 && !health?.ok; i++) {
        await new Promise((r) => setTimeout(r, 100));
        health = await fetch(`${url}/healthz`).catch(() => undefined);
      }
      assert.ok(health?.ok, "the binary answers /healthz");
      const page = await (await fetch(url)).text();
      const entry = /src="(\/static\/build\/[^"]+)"/.exec(page)?.[1];
      assert.ok(entry, "the page names its island bundle");
      assert.equal((await fetch(`${url}${entry}`)).status, 200);
      assert.equal((await fetch(`${url}/static/vendor/leaflet/leaflet.css`)).status, 200);
      const check = await new Deno.Command(binary, {
        args: ["healthcheck"],
        env: { PORT: String(port), HOST: "127.0.0.1" },
      })
        .output();
      assert.equal(check.code, 0, "the container health check subcommand works");
    } finally {
      child.kill("SIGTERM");
      await child.status;
      await Deno.remove(dir, { recursive: true });
    }
  },
});
