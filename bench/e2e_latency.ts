/**
 * End-to-end latency under the standard load: reports POSTed at a steady rate to a
 * running service (main.ts, started here as a real process) while 100,000 simulated
 * users are active, timed until the alert arrives on the map stream and until each
 * notification arrives on the SSE streams of the watched users near it (1,000 of them).
 * Sender and receiver are separate processes sharing the machine's clock.
 *
 * Usage: deno run -A bench/e2e_latency.ts [--mode embedded|full] [--users 100000] [--rate 200]
 *        [--seconds 60] [--streams 1000] [--json out.json]
 */

import { parseArgs } from "node:util";
import { simulatedUserId } from "../domain/simulated_walk.ts";
import { provisionAll, startAll } from "../scripts/services/all.ts";
import { cacheDir } from "../scripts/services/service.ts";
import { newUser } from "../tests/support/app.ts";
import { startServiceProcess } from "../tests/support/service_process.ts";
import { CITY } from "./lib/city.ts";
import { withAllocationProfile } from "./lib/cpu_profile.ts";
import { round, summarize } from "./lib/stats.ts";
import type { Summary } from "./lib/stats.ts";

export interface LatencyOptions {
  mode: "embedded" | "full";
  users: number;
  rate: number;
  seconds: number;
  streams: number;
  /**
   * Full mode: connection settings of Kafka, the MongoDB wire-protocol server and the S3
   * server already running (as services/all.ts gives them). Absent: started here.
   */
  servicesEnv?: Record<string, string>;
}

export interface LatencyResult extends Omit<LatencyOptions, "servicesEnv"> {
  reportsSent: number;
  reportsAccepted: number;
  mapMs: Summary;
  userMs: Summary;
  /** The service's own view: acceptance at the API to the push, p50/p99 (ms resolution). */
  serverAcceptedToPushMs: { p50: number; p99: number; max: number } | undefined;
  /** How late the service's event loop ran a 20 ms timer (its last minute). */
  eventLoopLagMs: { p50: number; p99: number; max: number } | undefined;
  activeUsers: number;
  serviceRssMb: number;
  /** All map and user-notification latencies, for the plot. */
  mapSamples: number[];
  userSamples: number[];
}

const epoch = () => performance.timeOrigin + performance.now();

export async function runLatency(o: LatencyOptions): Promise<LatencyResult> {
  let services: Awaited<ReturnType<typeof startAll>> | undefined;
  let servicesDir: string | undefined;
  const env: Record<string, string> = {
    SIMULATE: "on",
    SIM_USERS: String(o.users),
    SIM_CENTER: `${CITY.center.lat},${CITY.center.lng}`,
    SIM_SPREAD_M: String(CITY.discRadiusM),
    SIM_REPORT_INTERVAL_S: "3600",
    // The standard load is about fan-out: every report is an alert of its own.
    DEDUPE_WINDOW_S: "0",
    RATE_REPORTS_PER_USER: "1000000/1",
    RATE_REPORTS_PER_ADDRESS: "1000000/1",
    RATE_IDENTITIES_PER_ADDRESS: "1000000/1",
    LOG_LEVEL: "warn",
  };
  const { servicesEnv, ...options } = o;
  if (o.mode === "full" && servicesEnv) {
    Object.assign(env, servicesEnv);
  } else if (o.mode === "full") {
    await provisionAll(cacheDir());
    servicesDir = await Deno.makeTempDir({ prefix: "bench-services-" });
    services = await startAll(cacheDir(), servicesDir);
    Object.assign(env, services.env);
  }
  if (o.mode === "full") {
    // A fresh namespace per run, so an earlier run's topics, documents and objects never count.
    const run = `bench${Date.now().toString(36)}`;
    Object.assign(env, {
      KAFKA_TOPIC_PREFIX: `${run}.`,
      MONGODB_DATABASE: run,
      S3_PREFIX: `${run}/enriched-alerts`,
    });
  }
  // BENCH_DENO_FLAGS: extra flags for the service, e.g. "--v8-flags=--trace-gc" to see its pauses.
  const svc = await startServiceProcess(
    env,
    120_000,
    (Deno.env.get("BENCH_DENO_FLAGS") ?? "").split(" ").filter(Boolean),
  );
  let listener: Deno.ChildProcess | undefined;
  try {
    const stats = async () => await (await fetch(`${svc.url}/api/stats`)).json();
    for (let waited = 0; (await stats()).activeUsers < o.users && waited < 120_000; waited += 500) {
      await new Promise((r) => setTimeout(r, 500));
    }
    // Watch users spread over the whole population.
    const step = Math.max(1, Math.floor(o.users / o.streams));
    const watched = Array.from({ length: Math.min(o.streams, o.users) }, (_, i) => simulatedUserId(i * step));
    listener = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", new URL("./e2e/listener.ts", import.meta.url).pathname, svc.url, ...watched],
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    const arrivals: Array<[string, string, number]> = [];
    const reading = (async () => {
      let carry = "";
      for await (const chunk of listener!.stdout.pipeThrough(new TextDecoderStream())) {
        const lines = (carry + chunk).split("\n");
        carry = lines.pop()!;
        for (const line of lines) {
          const [kind, note, at] = line.split(" ");
          arrivals.push([kind, note, Number(at)]);
        }
      }
    })();
    for (let waited = 0; waited < 60_000; waited += 200) {
      const live = (await stats()).live;
      if (live.mapClients >= 1 && live.userClients >= watched.length) break;
      await new Promise((r) => setTimeout(r, 200));
    }

    const reporter = await newUser(svc.url);
    const sent = new Map<string, number>();
    let accepted = 0;
    const total = Math.round(o.rate * o.seconds);
    const send = async () => {
      const start = performance.now();
      const inflight: Promise<void>[] = [];
      for (let i = 0; i < total; i++) {
        const wait = start + (i * 1000) / o.rate - performance.now();
        if (wait > 1) await new Promise((r) => setTimeout(r, wait));
        const at = CITY.randomPoint();
        const note = `b${i}`;
        sent.set(note, epoch());
        inflight.push(
          fetch(`${svc.url}/api/reports`, {
            method: "POST",
            headers: { "content-type": "application/json", ...reporter.auth },
            body: JSON.stringify({
              type: "parking_inspector",
              lat: at.lat,
              lng: at.lng,
              reporterId: reporter.userId,
              note,
            }),
          }).then(async (res) => {
            await res.body?.cancel();
            if (res.status === 202) accepted++;
            else sent.delete(note);
          }),
        );
        if (inflight.length >= 1_000) await Promise.all(inflight.splice(0));
      }
      await Promise.all(inflight);
    };
    // BENCH_ALLOC_PROFILE=<inspector port> (with BENCH_DENO_FLAGS=--inspect=127.0.0.1:<port>): where the service allocates.
    const allocPort = Number(Deno.env.get("BENCH_ALLOC_PROFILE") ?? 0);
    await (allocPort ? withAllocationProfile(allocPort, send, 20, !Deno.env.get("BENCH_ALLOC_RETAINED")) : send());
    await new Promise((r) => setTimeout(r, 3_000));
    const final = await stats();
    listener.kill("SIGTERM");
    await listener.status;
    await reading;

    const map: number[] = [];
    const users: number[] = [];
    const slow: string[] = [];
    for (const [kind, note, at] of arrivals) {
      const t = sent.get(note);
      if (t === undefined) continue;
      (kind === "m" ? map : users).push(at - t);
      if (kind === "m" && at - t > 5 && Deno.env.get("BENCH_DEBUG")) {
        slow.push(`${((t - sent.get("b0")!) / 1000).toFixed(2)}s:${(at - t).toFixed(1)}`);
      }
    }
    if (slow.length) console.error(`slow map pushes (send time since start: latency ms): ${slow.join(" ")}`);
    return {
      ...options,
      reportsSent: total,
      reportsAccepted: accepted,
      mapMs: summarize(map),
      userMs: summarize(users),
      serverAcceptedToPushMs: final.live.acceptedToPushMs,
      eventLoopLagMs: final.eventLoopLagMs,
      activeUsers: final.activeUsers,
      serviceRssMb: final.memory.rssBytes / 1e6,
      mapSamples: map,
      userSamples: users,
    };
  } finally {
    if (listener) {
      try {
        listener.kill("SIGKILL");
      } catch { /* gone */ }
    }
    await svc.stop("SIGTERM");
    if (Deno.env.get("BENCH_SERVICE_LOG")) await Deno.writeTextFile(Deno.env.get("BENCH_SERVICE_LOG")!, svc.output());
    await Deno.remove(svc.dataDir, { recursive: true }).catch(() => {});
    await services?.stop();
    if (servicesDir) await Deno.remove(servicesDir, { recursive: true }).catch(() => {});
  }
}

export function describeLatency(r: LatencyResult): string {
  const f = (s: Summary) =>
    `n=${s.count} p50 ${round(s.p50)} p95 ${round(s.p95)} p99 ${round(s.p99)} max ${round(s.max)} ms`;
  return [
    `${r.mode}: ${r.reportsAccepted}/${r.reportsSent} reports at ${r.rate}/s for ${r.seconds} s, ${r.activeUsers} active users, ${r.streams} user streams`,
    `  POST → map stream:        ${f(r.mapMs)}`,
    `  POST → user notification: ${f(r.userMs)}`,
    `  inside the service (accepted → pushed): ${JSON.stringify(r.serverAcceptedToPushMs)}; RSS ${
      r.serviceRssMb.toFixed(0)
    } MB`,
    `  event-loop lag of the service: ${JSON.stringify(r.eventLoopLagMs)}`,
  ].join("\n");
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      mode: { type: "string", default: "embedded" },
      users: { type: "string", default: "100000" },
      rate: { type: "string", default: "200" },
      seconds: { type: "string", default: "60" },
      streams: { type: "string", default: "1000" },
      json: { type: "string" },
    },
  });
  const r = await runLatency({
    mode: values.mode === "full" ? "full" : "embedded",
    users: Number(values.users),
    rate: Number(values.rate),
    seconds: Number(values.seconds),
    streams: Number(values.streams),
  });
  console.log(describeLatency(r));
  if (values.json) {
    await Deno.writeTextFile(
      values.json,
      JSON.stringify({ ...r, mapSamples: undefined, userSamples: undefined }, null, 2) + "\n",
    );
  }
}
