/**
 * End-to-end latency: reports POSTed over HTTP at a steady rate to a running service
 * (started here as a real process, `main.ts`), timed until the alert arrives on the map
 * stream and until each notification arrives on the SSE streams of the nearby users who
 * hold one. One clock (this process) for send and receive.
 *
 * Usage: deno run -A bench/e2e_latency.ts [--users 100000] [--rate 200] [--seconds 60]
 *        [--streams 1000] [--env KEY=VALUE …] [--json out.json]
 */

import { parseArgs } from "node:util";
import { destination } from "../domain/geo.ts";
import { simulatedUserId } from "../domain/simulated_walk.ts";
import { startServiceProcess } from "../tests/support/service_process.ts";
import { SseClient } from "../tests/support/sse.ts";
import { withCpuProfile } from "./lib/cpu_profile.ts";
import { round, summarize } from "./lib/stats.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    users: { type: "string", default: "100000" },
    rate: { type: "string", default: "200" },
    seconds: { type: "string", default: "60" },
    streams: { type: "string", default: "1000" },
    env: { type: "string", multiple: true, default: [] },
    json: { type: "string" },
    profile: { type: "boolean", default: false },
    "service-log": { type: "string" },
  },
});
const users = Number(values.users);
const rate = Number(values.rate);
const seconds = Number(values.seconds);
const streamCount = Math.min(Number(values.streams), users);
const extraEnv = Object.fromEntries((values.env ?? []).map((kv) => kv.split("=", 2) as [string, string]));

// The standard load's city: 100 km² around central Tel Aviv (a disc of equal area).
const CENTER = { lat: 32.0853, lng: 34.7818 };
const SPREAD_M = Math.round(Math.sqrt(100e6 / Math.PI));

export interface LatencyResult {
  reports: number;
  mapLatencyMs: ReturnType<typeof summarize>;
  userLatencyMs: ReturnType<typeof summarize>;
  notificationsReceived: number;
  rssBytesAfter: number;
  activeUsers: number;
  missingOnMap: number;
}

export async function runLatency(): Promise<LatencyResult> {
  const inspectPort = 9339;
  const svc = await startServiceProcess(
    {
      SIMULATE: "on",
      SIM_USERS: String(users),
      SIM_CENTER: `${CENTER.lat},${CENTER.lng}`,
      SIM_SPREAD_M: String(SPREAD_M),
      SIM_REPORT_INTERVAL_S: "3600",
      LOG_LEVEL: "warn",
      ...extraEnv,
    },
    120_000,
    values.profile ? [`--inspect=127.0.0.1:${inspectPort}`] : [],
  );
  try {
    const stats0 = await (await fetch(`${svc.url}/api/stats`)).json();
    console.error(`service up: ${stats0.activeUsers} active users, rss ${Math.round(stats0.memory.rssBytes / 1e6)} MB`);
    const sent = new Map<string, number>();
    let accepted = 0;
    const mapLat: number[] = [];
    const userLat: number[] = [];
    const mapStream = await SseClient.connect(`${svc.url}/api/stream`);
    const streams: SseClient[] = [];
    const step = Math.max(1, Math.floor(users / streamCount));
    for (let i = 0; i < streamCount; i++) {
      streams.push(await SseClient.connect(`${svc.url}/api/stream?userId=${simulatedUserId(i * step)}`));
    }
    // Latency is taken when the frame is parsed: hook the event arrays.
    const hook = (client: SseClient, into: number[]) => {
      const push = client.events.push.bind(client.events);
      client.events.push = (...evs) => {
        const now = performance.now();
        for (const e of evs) {
          // Correlate by the note: the event can arrive before the POST's response does.
          const token = /"note":"(b\d+)"/.exec(e.data)?.[1];
          const t = token ? sent.get(token) : undefined;
          if (t !== undefined) into.push(now - t);
        }
        // Keep memory flat: the bench needs the times, not the events.
        return push();
      };
    };
    hook(mapStream, mapLat);
    for (const s of streams) hook(s, userLat);

    const load = async () => {
      const total = Math.round(rate * seconds);
      const interval = 1000 / rate;
      const start = performance.now();
      const inflight: Promise<void>[] = [];
      for (let i = 0; i < total; i++) {
        const due = start + i * interval;
        const wait = due - performance.now();
        if (wait > 1) await new Promise((r) => setTimeout(r, wait));
        const at = destination(CENTER, Math.random() * 360, SPREAD_M * Math.sqrt(Math.random()));
        const token = `b${i}`;
        sent.set(token, performance.now());
        const p = fetch(`${svc.url}/api/reports`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({
            type: "parking_inspector",
            lat: at.lat,
            lng: at.lng,
            reporterId: "bench",
            note: token,
          }),
        }).then(async (res) => {
          await res.body?.cancel();
          if (res.status === 202) accepted++;
          else sent.delete(token);
        });
        inflight.push(p);
        if (inflight.length > 500) await Promise.all(inflight.splice(0));
      }
      await Promise.all(inflight);
    };
    await (values.profile ? withCpuProfile(inspectPort, load) : load());
    await new Promise((r) => setTimeout(r, 2_000));
    const stats1 = await (await fetch(`${svc.url}/api/stats`)).json();
    console.error(
      "live hub:",
      JSON.stringify(stats1.live),
      "stages:",
      JSON.stringify(stats1.stages.map((s: { name: string; retries: number }) => [s.name, s.retries])),
    );
    await mapStream.close();
    await Promise.all(streams.map((s) => s.close()));
    return {
      reports: accepted,
      mapLatencyMs: summarize(mapLat),
      userLatencyMs: summarize(userLat),
      notificationsReceived: userLat.length,
      rssBytesAfter: stats1.memory.rssBytes,
      activeUsers: stats1.activeUsers,
      missingOnMap: accepted - mapLat.length,
    };
  } finally {
    await svc.stop("SIGTERM");
    if (values["service-log"]) await Deno.writeTextFile(values["service-log"], svc.output());
    await Deno.remove(svc.dataDir, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) {
  const r = await runLatency();
  const fmt = (s: ReturnType<typeof summarize>) =>
    `n=${s.count} p50=${round(s.p50)} p95=${round(s.p95)} p99=${round(s.p99)} max=${round(s.max)} ms`;
  console.log(`reports accepted: ${r.reports} (${r.missingOnMap} not seen on the map stream)`);
  console.log(`POST → map stream:        ${fmt(r.mapLatencyMs)}`);
  console.log(`POST → user notification: ${fmt(r.userLatencyMs)}`);
  console.log(`active users: ${r.activeUsers}, service RSS after: ${Math.round(r.rssBytesAfter / 1e6)} MB`);
  if (values.json) await Deno.writeTextFile(values.json, JSON.stringify(r, null, 2) + "\n");
}
