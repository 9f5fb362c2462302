/**
 * `deno task test:load`: one instance holding 10,000 concurrent SSE connections (map
 * streams, raw TCP clients on loopback), one alert fanned out to all of them, memory
 * reported. Outside the default test run: it needs a high open-files limit (the task
 * raises it) and a minute of the machine.
 *
 * Usage: deno run -A tests/load/sse_connections.ts [--connections 10000] [--json out.json]
 */

import { parseArgs } from "node:util";
import { newUser, report } from "../support/app.ts";
import { startServiceProcess } from "../support/service_process.ts";
import { withCpuProfile } from "../../bench/lib/cpu_profile.ts";

interface Conn {
  conn: Deno.TcpConn;
  got: boolean;
  receivedAt: number;
}

export interface FanoutResult {
  connections: number;
  connectSeconds: number;
  rssIdleMb: number;
  rssWithConnectionsMb: number;
  bytesPerConnection: number;
  fanoutAllMs: number;
  fanoutP50Ms: number;
  fanoutP99Ms: number;
  received: number;
}

export async function runFanout(n: number, profile = false): Promise<FanoutResult> {
  const inspect = 9341;
  const svc = await startServiceProcess(
    { SIMULATE: "off", LOG_LEVEL: "warn" },
    60_000,
    profile ? [`--inspect=127.0.0.1:${inspect}`] : [],
  );
  const port = Number(new URL(svc.url).port);
  const conns: Conn[] = [];
  try {
    const stats = async () => await (await fetch(`${svc.url}/api/stats`)).json();
    const rssIdle = (await stats()).memory.rssBytes;
    const request = new TextEncoder().encode(
      "GET /api/stream HTTP/1.1\r\nHost: load\r\nAccept: text/event-stream\r\n\r\n",
    );
    const marker = new TextEncoder().encode("event: alert");
    const t0 = performance.now();
    // Connect in waves so the listen backlog never overflows.
    for (let i = 0; i < n; i += 500) {
      await Promise.all(Array.from({ length: Math.min(500, n - i) }, async () => {
        const conn = await Deno.connect({ hostname: "127.0.0.1", port });
        await conn.write(request);
        const c: Conn = { conn, got: false, receivedAt: 0 };
        conns.push(c);
        // Each client reads everything and notes when the alert frame arrives.
        (async () => {
          const buf = new Uint8Array(16 * 1024);
          for (;;) {
            const read = await conn.read(buf).catch(() => null);
            if (read === null) return;
            if (!c.got && indexOf(buf.subarray(0, read), marker) >= 0) {
              c.got = true;
              c.receivedAt = performance.now();
            }
          }
        })();
      }));
    }
    const connectSeconds = (performance.now() - t0) / 1000;
    for (let waited = 0; (await stats()).live.mapClients < n && waited < 60_000; waited += 250) {
      await new Promise((r) => setTimeout(r, 250));
    }
    const held = (await stats()).live.mapClients;
    if (held < n) throw new Error(`only ${held} of ${n} connections held`);
    const rssHeld = (await stats()).memory.rssBytes;

    const user = await newUser(svc.url);
    let sent = 0;
    const fire = async () => {
      sent = performance.now();
      const res = await report(svc.url, user, { type: "police", lat: 32.0853, lng: 34.7818 });
      if (res.status !== 202) throw new Error(`report answered ${res.status}`);
      for (let waited = 0; conns.some((c) => !c.got) && waited < 30_000; waited += 5) {
        await new Promise((r) => setTimeout(r, 5));
      }
    };
    await (profile ? withCpuProfile(inspect, fire, 30) : fire());
    const delays = conns.filter((c) => c.got).map((c) => c.receivedAt - sent).sort((a, b) => a - b);
    return {
      connections: n,
      connectSeconds,
      rssIdleMb: rssIdle / 1e6,
      rssWithConnectionsMb: rssHeld / 1e6,
      bytesPerConnection: Math.round((rssHeld - rssIdle) / n),
      fanoutAllMs: delays[delays.length - 1],
      fanoutP50Ms: delays[Math.floor(delays.length / 2)],
      fanoutP99Ms: delays[Math.floor(delays.length * 0.99)],
      received: delays.length,
    };
  } finally {
    for (const c of conns) {
      try {
        c.conn.close();
      } catch { /* closed already */ }
    }
    await svc.stop("SIGTERM");
    await Deno.remove(svc.dataDir, { recursive: true }).catch(() => {});
  }
}

function indexOf(haystack: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i <= haystack.length - needle.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      connections: { type: "string", default: "10000" },
      json: { type: "string" },
      profile: { type: "boolean", default: false },
    },
  });
  const N = Number(values.connections);
  const r = await runFanout(N, values.profile);
  console.log(`${r.connections} SSE connections held by one instance (connected in ${r.connectSeconds.toFixed(1)} s)`);
  console.log(
    `server RSS: ${r.rssIdleMb.toFixed(0)} MB idle → ${
      r.rssWithConnectionsMb.toFixed(0)
    } MB with them (${r.bytesPerConnection} B each)`,
  );
  console.log(
    `one alert to all: ${r.received}/${r.connections} received; p50 ${r.fanoutP50Ms.toFixed(0)} ms, p99 ${
      r.fanoutP99Ms.toFixed(0)
    } ms, last ${r.fanoutAllMs.toFixed(0)} ms`,
  );
  if (values.json) await Deno.writeTextFile(values.json, JSON.stringify(r, null, 2) + "\n");
  if (r.received < r.connections) Deno.exit(1);
}
