/**
 * `deno task bench` at tiny sizes (--quick), so the benchmarks cannot rot: every
 * benchmark runs for real against the test run's Kafka, FerretDB and S3 server and the
 * proximity peers, and writes results a program can check. Figures are not judged
 * here (timings are noise at these sizes); that they exist and are sane is.
 */

import assert from "node:assert/strict";
import { realServices } from "../tests/support/services.ts";
import type { BenchEntry } from "./run.ts";

Deno.test({
  name: "bench --quick: every benchmark runs and writes latest.json, latest.md and the latency plot",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const s = realServices();
    const out = await Deno.makeTempDir({ prefix: "bench-smoke-" });
    const servicesFile = `${out}/services.env`;
    await Deno.writeTextFile(
      servicesFile,
      [
        `KAFKA_BROKERS=${s.kafkaBrokers}`,
        `MONGODB_URI=${s.mongoUri}`,
        `S3_ENDPOINT=${s.s3.endpoint}`,
        `S3_BUCKET=${s.s3.bucket}`,
        `S3_REGION=${s.s3.region}`,
        `AWS_ACCESS_KEY_ID=${s.s3.accessKeyId}`,
        `AWS_SECRET_ACCESS_KEY=${s.s3.secretAccessKey}`,
      ].join("\n"),
    );
    try {
      const run = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          "--v8-flags=--expose-gc",
          new URL("./run.ts", import.meta.url).pathname,
          "--quick",
          "--services",
          servicesFile,
          "--out",
          out,
        ],
        stdout: "piped",
        stderr: "piped",
      }).output();
      const text = new TextDecoder().decode(run.stdout) + new TextDecoder().decode(run.stderr);
      assert.equal(run.code, 0, `bench/run.ts --quick failed:\n${text.slice(-4000)}`);

      const entries: BenchEntry[] = JSON.parse(await Deno.readTextFile(`${out}/latest.json`));
      const byName = new Map(entries.map((e) => [e.name, e]));
      for (
        const name of [
          "e2e-latency-p99-embedded",
          "e2e-latency-p99-full",
          "proximity-qps-2k",
          "ingest-embedded",
          "minute-job-2k-mongo",
          "fanout-200",
          "bytes-per-active-user",
        ]
      ) {
        const e = byName.get(name);
        assert.ok(e, `latest.json has no ${name}: ${[...byName.keys()].join(", ")}`);
        assert.ok(Number.isFinite(e.measured) && e.measured > 0, `${name}: measured ${e.measured}`);
        assert.ok(Number.isFinite(e.target) && e.target > 0, `${name}: target ${e.target}`);
        assert.ok(e.better === "lower" || e.better === "higher");
      }
      const proximity = byName.get("proximity-qps-2k")!;
      assert.equal(proximity.detail?.answersIdentical, true, "every engine gave the brute force's answers");
      for (const peer of ["brute-force", "postgis", "redis-geo"]) {
        assert.ok(proximity.peers[peer] > 0, `proximity peer ${peer} measured: ${JSON.stringify(proximity.peers)}`);
      }
      // Every report was delivered in both modes, and the fan-out reached every client.
      for (const mode of ["embedded", "full"]) {
        const d = byName.get(`e2e-latency-p99-${mode}`)!.detail as { mapStream: { count: number }; reports: string };
        assert.match(d.reports, /^200\/200 /);
        assert.equal(d.mapStream.count, 200, `${mode}: every accepted report reached the map stream`);
      }
      assert.equal((byName.get("fanout-200")!.detail as { received: number }).received, 200);

      const svg = await Deno.readTextFile(`${out}/latency.svg`);
      assert.equal((svg.match(/<polyline /g) ?? []).length, 5, "five latency curves");
      const md = await Deno.readTextFile(`${out}/latest.md`);
      for (const e of entries) assert.ok(md.includes(`| ${e.name} |`), `latest.md lists ${e.name}`);
    } finally {
      await Deno.remove(out, { recursive: true }).catch(() => {});
    }
  },
});
