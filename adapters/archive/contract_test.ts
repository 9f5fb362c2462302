/**
 * One suite for the archive port, run against the local folder and a real S3-compatible
 * server (versitygw, as `deno task test` starts it).
 */

import assert from "node:assert/strict";
import { loadConfig } from "../../config.ts";
import { realServices, uniqueName } from "../../tests/support/services.ts";
import { LocalArchive } from "./local.ts";
import type { Archive } from "./port.ts";
import { S3Archive } from "./s3.ts";

const impls: Array<{ name: string; open(): Promise<{ archive: Archive; cleanup(): Promise<void> }> }> = [
  {
    name: "local",
    async open() {
      const dir = await Deno.makeTempDir();
      return { archive: new LocalArchive(dir), cleanup: () => Deno.remove(dir, { recursive: true }) };
    },
  },
  {
    name: "s3 (versitygw)",
    async open() {
      const s = realServices();
      Deno.env.set("AWS_ACCESS_KEY_ID", s.s3.accessKeyId);
      Deno.env.set("AWS_SECRET_ACCESS_KEY", s.s3.secretAccessKey);
      const config = loadConfig({
        S3_BUCKET: s.s3.bucket,
        S3_ENDPOINT: s.s3.endpoint,
        S3_REGION: s.s3.region,
        S3_PREFIX: `${uniqueName("archive")}/enriched-alerts`,
      });
      const archive = new S3Archive(config.s3!);
      await archive.ensureBucket();
      return { archive, cleanup: () => archive.close() };
    },
  },
];

for (const impl of impls) {
  Deno.test(`archive contract [${impl.name}]: put overwrites, list by prefix in order, get, health`, async () => {
    const { archive, cleanup } = await impl.open();
    try {
      const k1 = "dt=2026-12-04/hour=15/0-0-9.jsonl";
      const k2 = "dt=2026-12-04/hour=15/0-10-19.jsonl";
      const k3 = "dt=2026-12-04/hour=16/1-0-4.jsonl";
      await archive.put(k1, '{"id":"first"}\n');
      await archive.put(k1, '{"id":"again"}\n'); // a redelivery writes the same key: one object
      await archive.put(k2, '{"id":"x"}\n');
      await archive.put(k3, '{"id":"y"}\n');
      assert.deepEqual(await archive.list("dt=2026-12-04/hour=15/"), [k2, k1].sort());
      assert.deepEqual(await archive.list("dt=2026-12-04/hour=15/0-0-"), [k1]);
      assert.deepEqual(await archive.list(""), [k1, k2, k3].sort());
      assert.equal(await archive.get(k1), '{"id":"again"}\n');
      assert.equal(await archive.get("dt=2026-12-04/hour=15/missing.jsonl"), undefined);
      assert.deepEqual(await archive.list("dt=1999-01-01/"), []);
      assert.equal((await archive.health()).ok, true);
    } finally {
      await cleanup();
    }
  });
}

Deno.test("local archive: keys cannot escape the archive folder", async () => {
  const dir = await Deno.makeTempDir();
  const archive = new LocalArchive(dir);
  await assert.rejects(archive.put("../outside.jsonl", "x"), /escapes/);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("s3 archive: an unreachable endpoint is reported unhealthy and fails fast instead of hanging", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close(); // nothing listens there now
  const config = loadConfig({ S3_BUCKET: "b", S3_ENDPOINT: `http://127.0.0.1:${port}` });
  const archive = new S3Archive(config.s3!);
  const started = Date.now();
  assert.equal((await archive.health()).ok, false);
  await assert.rejects(archive.put("k", "v"));
  assert.ok(Date.now() - started < 15_000);
  await archive.close();
});
