/**
 * Starts a whole AlertCircle in this process for a test: real HTTP server on a free
 * 127.0.0.1 port, embedded ports unless the test passes others, simulation off, a
 * throwaway data dir. `close()` shuts it down like SIGTERM would.
 */

import { buildApp } from "../../app/wiring.ts";
import type { AppOverrides } from "../../app/wiring.ts";
import { loadConfig } from "../../config.ts";
import { setLogLevel } from "../../log.ts";

/** Tests post quickly from one address and user; the rate-limit tests set their own limits. */
export const GENEROUS_LIMITS = {
  RATE_REPORTS_PER_USER: "100000/1",
  RATE_REPORTS_PER_ADDRESS: "100000/1",
  RATE_LOCATIONS_PER_USER: "100000/1",
  RATE_IDENTITIES_PER_ADDRESS: "100000/1",
};

export interface TestUser {
  userId: string;
  token: string;
  /** Authorization header for this user. */
  auth: Record<string, string>;
}

/** A new identity from POST /api/users. */
export async function newUser(url: string): Promise<TestUser> {
  const res = await fetch(`${url}/api/users`, { method: "POST" });
  if (res.status !== 201) throw new Error(`POST /api/users answered ${res.status}: ${await res.text()}`);
  const { userId, token } = await res.json();
  return { userId, token, auth: { authorization: `Bearer ${token}` } };
}

/** Posts a location for the user, as the user. */
export async function placeUser(url: string, user: TestUser, at: { lat: number; lng: number }): Promise<Response> {
  return await postJson(`${url}/api/locations`, { userId: user.userId, lat: at.lat, lng: at.lng }, user.auth);
}

/** Posts a report as the user. */
export async function report(
  url: string,
  user: TestUser,
  body: { type: string; lat: number; lng: number; note?: string },
): Promise<Response> {
  return await postJson(`${url}/api/reports`, { ...body, reporterId: user.userId }, user.auth);
}

export interface TestApp {
  url: string;
  app: Awaited<ReturnType<typeof buildApp>>;
  dataDir: string;
  close(): Promise<void>;
}

export async function startTestApp(env: Record<string, string> = {}, overrides: AppOverrides = {}): Promise<TestApp> {
  setLogLevel((Deno.env.get("TEST_LOG_LEVEL") as "debug" | "info" | "warn" | "error" | undefined) ?? "error");
  const dataDir = await Deno.makeTempDir({ prefix: "alertcircle-test-" });
  const config = loadConfig({
    SIMULATE: "off",
    DATA_DIR: dataDir,
    HOST: "127.0.0.1",
    PORT: "0",
    ...GENEROUS_LIMITS,
    ...env,
  });
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
