/**
 * `deno task bench`: every benchmark of the standard load in one run, each figure beside
 * its target and beside the peers measured in the same run.
 *
 * Writes to the output folder (default bench/results/):
 * - latest.json — one entry per target: {name, measured, target, unit, better, peers, detail}
 * - latest.md — the same as a table (the README's benchmark table comes from it)
 * - latency.svg — the end-to-end latency distributions, embedded and full mode
 * - one JSON file per benchmark with everything it measured
 *
 * Kafka, the MongoDB wire-protocol server and the S3 server are provisioned and started
 * here (cached, on 127.0.0.1) unless `--services <file>` names the settings of running
 * ones (the format of data/services.env). Tile38, Redis and PostGIS are the proximity
 * peers (bench/peers/). `--quick` runs everything at tiny sizes (the smoke test does).
 *
 * Usage: deno task bench [--quick] [--only latency,proximity,ingest,fanout,memory]
 *        [--services data/services.env] [--out bench/results]
 */

import { parseArgs } from "node:util";
import { runFanout } from "../tests/load/sse_connections.ts";
import { provisionAll, startAll } from "../scripts/services/all.ts";
import { cacheDir } from "../scripts/services/service.ts";
import { describeLatency, runLatency } from "./e2e_latency.ts";
import type { LatencyResult } from "./e2e_latency.ts";
import { describeIngest, runEmbeddedIngest, runMongoIngest } from "./ingest.ts";
import { describeMemory, measureIndexMemory, measureServiceRss } from "./memory.ts";
import { describeProximity, runProximitySuite } from "./proximity.ts";
import type { ProximityResult } from "./proximity.ts";
import { latencyCdfSvg } from "./lib/plot.ts";
import { round } from "./lib/stats.ts";

export interface BenchEntry {
  name: string;
  measured: number;
  target: number;
  unit: string;
  better: "lower" | "higher";
  /** Each peer's figure for the same measure, from the same run. */
  peers: Record<string, number>;
  /** What else the reader needs to judge the figure. */
  detail?: Record<string, unknown>;
}

export const BENCHES = ["latency", "proximity", "ingest", "fanout", "memory"] as const;
export type BenchName = (typeof BENCHES)[number];

interface Sizes {
  latency: { users: number; rate: number; seconds: number; streams: number };
  proximity: { sizes: number[]; queries: number; budgetMs: number; check: number };
  ingest: { users: number; updates: number; absorbMs: number };
  fanout: { connections: number };
  memory: { users: number; rss: number[] };
}

/** The standard load (../shared/ARCHITECTURE.md), and tiny sizes that only prove it runs. */
export const SIZES: Record<"standard" | "quick", Sizes> = {
  standard: {
    latency: { users: 100_000, rate: 200, seconds: 60, streams: 1_000 },
    proximity: { sizes: [100_000, 1_000_000], queries: 100_000, budgetMs: 20_000, check: 200 },
    ingest: { users: 100_000, updates: 1_000_000, absorbMs: 60_000 },
    fanout: { connections: 10_000 },
    memory: { users: 100_000, rss: [100_000, 1_000_000] },
  },
  quick: {
    latency: { users: 2_000, rate: 50, seconds: 4, streams: 50 },
    proximity: { sizes: [2_000], queries: 2_000, budgetMs: 1_000, check: 50 },
    ingest: { users: 2_000, updates: 20_000, absorbMs: 5_000 },
    fanout: { connections: 200 },
    memory: { users: 10_000, rss: [2_000] },
  },
};

/** Settings in data/services.env form: NAME=value lines. */
export async function readServicesEnv(file: string): Promise<Record<string, string>> {
  const env: Record<string, string> = {};
  for (const line of (await Deno.readTextFile(file)).split("\n")) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (m) env[m[1]] = m[2];
  }
  for (const need of ["KAFKA_BROKERS", "MONGODB_URI", "S3_BUCKET"]) {
    if (!env[need]) throw new Error(`${file} has no ${need}`);
  }
  return env;
}

function proximityEntry(p: ProximityResult, label: string): BenchEntry {
  const qps = (engine: string) => p.engines.find((e) => e.engine.startsWith(engine) && e.queries > 0)?.qps;
  const ours = p.engines.find((e) => e.engine === "alertcircle-index")!;
  const peers: Record<string, number> = {};
  for (const e of p.engines) if (e !== ours && e.queries > 0) peers[e.engine] = e.qps;
  // The target: twice the faster of Tile38 and PostGIS (whichever of them ran).
  const rivals = [qps("tile38"), qps("postgis")].filter((v): v is number => v !== undefined);
  const wrong = p.engines.reduce((n, e) => n + e.mismatches, 0);
  return {
    name: `proximity-qps-${label}`,
    measured: ours.qps,
    target: rivals.length > 0 ? 2 * Math.max(...rivals) : NaN,
    unit: "queries/s",
    better: "higher",
    peers,
    detail: {
      points: p.points,
      meanAnswer: p.meanAnswer,
      p99Ms: Object.fromEntries(p.engines.filter((e) => e.queries > 0).map((e) => [e.engine, e.p99Ms])),
      answersIdentical: wrong === 0,
      checkedPerEngine: Object.fromEntries(p.engines.map((e) => [e.engine, e.checked])),
      notRun: Object.fromEntries(p.engines.filter((e) => e.queries === 0).map((e) => [e.engine, e.note])),
      target: "2 × the faster of Tile38 and PostGIS",
    },
  };
}

function latencyEntry(r: LatencyResult, target: number): BenchEntry {
  return {
    name: `e2e-latency-p99-${r.mode}`,
    measured: round(r.userMs.p99),
    target,
    unit: "ms",
    better: "lower",
    peers: {},
    detail: {
      measure: "POST /api/reports → the notification on a nearby user's SSE stream",
      userNotification: r.userMs,
      mapStream: r.mapMs,
      reports: `${r.reportsAccepted}/${r.reportsSent} at ${r.rate}/s for ${r.seconds} s`,
      activeUsers: r.activeUsers,
      streams: r.streams,
      serverAcceptedToPushMs: r.serverAcceptedToPushMs,
      eventLoopLagMs: r.eventLoopLagMs,
    },
  };
}

/** Table order: the order of the targets in the issue. */
function order(e: BenchEntry): number {
  const i = ["e2e-latency", "proximity", "ingest", "minute-job", "fanout", "bytes"].findIndex((p) =>
    e.name.startsWith(p)
  );
  return i * 10 + (e.name.endsWith("full") || e.name.endsWith("1m") ? 1 : 0);
}

function status(e: BenchEntry): string {
  if (!Number.isFinite(e.target)) return "no target";
  const met = e.better === "lower" ? e.measured <= e.target : e.measured >= e.target;
  return met ? "met" : "missed";
}

function fmt(n: number): string {
  if (!Number.isFinite(n)) return "—";
  return Math.abs(n) >= 100 ? Math.round(n).toLocaleString("en") : String(round(n, 2));
}

export function markdownTable(entries: BenchEntry[]): string {
  const rows = [
    "| benchmark | measured | target | | peers in the same run (their figure; ours ÷ theirs) |",
    "|---|---|---|---|---|",
  ];
  for (const e of entries) {
    const peers = Object.entries(e.peers).map(([name, v]) =>
      `${name} ${fmt(v)} (${v > 0 ? `${round(e.measured / v, 1)}×` : "—"})`
    ).join("; ");
    rows.push(
      `| ${e.name} | ${fmt(e.measured)} ${e.unit} | ${e.better === "lower" ? "≤" : "≥"} ${fmt(e.target)} | ${
        status(e)
      } | ${peers || "—"} |`,
    );
  }
  return rows.join("\n") + "\n";
}

export async function runBenchmarks(o: {
  sizes: Sizes;
  only: BenchName[];
  out: string;
  servicesEnv?: Record<string, string>;
}): Promise<BenchEntry[]> {
  await Deno.mkdir(o.out, { recursive: true });
  const save = (name: string, data: unknown) =>
    Deno.writeTextFile(`${o.out}/${name}.json`, JSON.stringify(data, null, 2) + "\n");
  // Kafka, FerretDB and the S3 server are started when first needed: the embedded
  // latency run comes first, so that idle servers (a JVM's collector, the S3 server's
  // timers) do not share the two cores with it.
  let servicesEnv = o.servicesEnv;
  let stopServices: (() => Promise<void>) | undefined;
  const services = async (): Promise<Record<string, string>> => {
    if (servicesEnv) return servicesEnv;
    await provisionAll(cacheDir());
    const dir = await Deno.makeTempDir({ prefix: "bench-services-" });
    const running = await startAll(cacheDir(), dir);
    stopServices = async () => {
      await running.stop();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    };
    return servicesEnv = running.env;
  };
  const entries: BenchEntry[] = [];
  try {
    if (o.only.includes("latency")) {
      const runs: LatencyResult[] = [];
      for (const mode of ["embedded", "full"] as const) {
        const r = await runLatency({
          mode,
          ...o.sizes.latency,
          servicesEnv: mode === "full" ? await services() : undefined,
        });
        console.log(describeLatency(r));
        await save(`latency_${mode}`, { ...r, mapSamples: undefined, userSamples: undefined });
        runs.push(r);
      }
      // Full mode again with 1,000 users: the pipeline's own latency (Kafka, its
      // transactions, the fetch loop) when the MongoDB wire-protocol server is not
      // saturated by the standard load's writes, so the two causes can be told apart.
      const light = await runLatency({
        mode: "full",
        ...o.sizes.latency,
        users: Math.min(1_000, o.sizes.latency.users),
        streams: Math.min(200, o.sizes.latency.streams),
        seconds: Math.min(30, o.sizes.latency.seconds),
        servicesEnv: await services(),
      });
      console.log(describeLatency(light));
      await save("latency_full_1k_users", { ...light, mapSamples: undefined, userSamples: undefined });
      const full = latencyEntry(runs[1], 50);
      full.detail = {
        ...full.detail,
        sameRunWith1kUsers: { userNotification: light.userMs, mapStream: light.mapMs, activeUsers: light.activeUsers },
      };
      entries.push(latencyEntry(runs[0], 5), full);
      await Deno.writeTextFile(
        `${o.out}/latency.svg`,
        latencyCdfSvg(
          [
            { name: "embedded: user notification", color: "#1f77b4", samples: runs[0].userSamples },
            { name: "full mode: user notification", color: "#d62728", samples: runs[1].userSamples },
            { name: "embedded: map stream", color: "#7fb3df", samples: runs[0].mapSamples },
            { name: "full mode: map stream", color: "#f0a0a0", samples: runs[1].mapSamples },
            {
              name: `full mode, ${light.activeUsers.toLocaleString("en")} users: user notification`,
              color: "#9467bd",
              samples: light.userSamples,
            },
          ],
          {
            title: `POST → SSE, ${runs[0].rate} reports/s, ${runs[0].activeUsers.toLocaleString("en")} active users`,
            marks: [
              { at: 5, label: "target embedded 5 ms", color: "#1f77b4" },
              { at: 50, label: "target full 50 ms", color: "#d62728" },
            ],
          },
        ),
      );
    }

    if (o.only.includes("proximity")) {
      const suite = await runProximitySuite({ ...o.sizes.proximity, mongo: (await services()).MONGODB_URI });
      for (const r of suite.results) console.log(describeProximity(r));
      console.log(`peers: ${JSON.stringify(suite.versions)}`);
      await save("proximity", suite);
      for (const r of suite.results) {
        const label = r.points >= 1_000_000 ? `${r.points / 1_000_000}m` : `${r.points / 1_000}k`;
        const entry = proximityEntry(r, label);
        entry.detail = { ...entry.detail, versions: suite.versions };
        entries.push(entry);
      }
    }

    if (o.only.includes("ingest")) {
      const embedded = await runEmbeddedIngest(o.sizes.ingest);
      const mongo = await runMongoIngest({ ...o.sizes.ingest, servicesEnv: await services() });
      console.log(describeIngest(embedded, mongo));
      await save("ingest", { embedded, mongo });
      entries.push({
        name: "ingest-embedded",
        measured: embedded.updatesPerSecond,
        target: 50_000,
        unit: "updates/s",
        better: "higher",
        peers: {},
        detail: { users: embedded.users, updates: embedded.updates, minuteJobMsEmbedded: embedded.minuteJobMs },
      });
      if (mongo) {
        entries.push({
          name: `minute-job-${mongo.users / 1000}k-mongo`,
          measured: mongo.minuteJobMs,
          target: 5_000,
          unit: "ms",
          better: "lower",
          peers: {},
          detail: {
            measure: "the job on Kafka + the MongoDB wire-protocol server: every user moved and published",
            server: mongo.server,
            storeWriteBehind: {
              absorbed: mongo.storeAbsorbed,
              of: mongo.users,
              seconds: mongo.storeSeconds,
              updatesPerSecond: mongo.storeUpdatesPerSecond,
              caughtUp: mongo.storeCaughtUp,
            },
          },
        });
      }
    }

    if (o.only.includes("fanout")) {
      const f = await runFanout(o.sizes.fanout.connections);
      console.log(
        `fan-out: ${f.received}/${f.connections} SSE clients had the alert; last after ${round(f.fanoutAllMs, 1)} ms`,
      );
      await save("fanout", f);
      entries.push({
        name: `fanout-${f.connections >= 1000 ? `${f.connections / 1000}k` : f.connections}`,
        measured: round(f.fanoutAllMs, 1),
        target: 250,
        unit: "ms",
        better: "lower",
        peers: {},
        detail: {
          received: f.received,
          p50Ms: round(f.fanoutP50Ms, 1),
          p99Ms: round(f.fanoutP99Ms, 1),
          bytesPerConnection: f.bytesPerConnection,
          rssWithConnectionsMb: round(f.rssWithConnectionsMb),
        },
      });
    }

    if (o.only.includes("memory")) {
      const index = measureIndexMemory(o.sizes.memory.users);
      const rss = [];
      for (const n of o.sizes.memory.rss) rss.push(await measureServiceRss(n));
      console.log(describeMemory(index, rss));
      await save("memory", { index, rss });
      entries.push({
        name: "bytes-per-active-user",
        measured: index.bytesPerUser,
        target: 300,
        unit: "bytes",
        better: "lower",
        peers: {},
        detail: {
          users: index.users,
          serviceRssMb: Object.fromEntries(rss.map((r) => [String(r.users), r.rssMb])),
        },
      });
    }
  } finally {
    await stopServices?.();
  }
  // Entries from an earlier run of the benchmarks not run now stay (--only re-runs a part);
  // each entry says when it was measured.
  const at = new Date().toISOString();
  for (const e of entries) e.detail = { ...e.detail, measuredAt: at };
  const earlier: BenchEntry[] = await Deno.readTextFile(`${o.out}/latest.json`).then(JSON.parse, () => []);
  const merged = [...entries, ...earlier.filter((e) => !entries.some((n) => n.name === e.name))]
    .sort((a, b) => order(a) - order(b));
  await Deno.writeTextFile(`${o.out}/latest.json`, JSON.stringify(merged, null, 2) + "\n");
  await Deno.writeTextFile(
    `${o.out}/latest.md`,
    `${Deno.build.os}/${Deno.build.arch}, ${navigator.hardwareConcurrency} cores; last run ${at}\n\n` +
      markdownTable(merged),
  );
  return entries;
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      quick: { type: "boolean", default: false },
      only: { type: "string", default: BENCHES.join(",") },
      services: { type: "string" },
      out: { type: "string", default: new URL("./results", import.meta.url).pathname },
    },
  });
  const only = values.only.split(",").filter(Boolean);
  for (const b of only) {
    if (!(BENCHES as readonly string[]).includes(b)) {
      throw new Error(`--only: no benchmark "${b}" (${BENCHES.join(", ")})`);
    }
  }
  const entries = await runBenchmarks({
    sizes: SIZES[values.quick ? "quick" : "standard"],
    only: only as BenchName[],
    out: values.out,
    servicesEnv: values.services ? await readServicesEnv(values.services) : undefined,
  });
  console.log(`\n${markdownTable(entries)}\nwritten to ${values.out}/`);
}
