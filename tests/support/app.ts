/**
 * Starts a whole AlertCircle in this process for a test: real HTTP server on a free
 * 127.0.0.1 port, embedded ports unless the test passes others, simulation off, a
 * throwaway data dir. `close()` shuts it down like SIGTERM would.
 */

import { buildApp } from "../../app/wiring.ts";
import type { AppOverrides } from "../../app/wiring.ts";
import { loadConfig } from "../../config.ts";
import { setLogLevel } from "../../log.ts";

export interface TestApp {
  url: string;
  app: Awaited<ReturnType<typeof buildApp>>;
  dataDir: string;
  close(): Promise<void>;
}

export async function startTestApp(env: Record<string, string> = {}, overrides: AppOverrides = {}): Promise<TestApp> {
  setLogLevel((Deno.env.get("TEST_LOG_LEVEL") as "debug" | "info" | "warn" | "error" | undefined) ?? "error");
  const dataDir = await Deno.makeTempDir({ prefix: "alertcircle-test-" });
  const config = loadConfig({ SIMULATE: "off", DATA_DIR: dataDir, HOST: "127.0.0.1", PORT: "0", ...env });
  const app = await buildApp(config, overrides);
  await app.start();
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, app.http.fetch);
  const url = `http://127.0.0.1:${server.addr.port}`;
  let closed = false;
  return {
    url,
    app,
    dataDir,
    async close() {
      if (closed) return;
      closed = true;
      app.ctx.hub.closeAll("test over");
      await server.shutdown();
      await app.shutdown();
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    },
  };
}

export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}
