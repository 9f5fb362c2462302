/**
 * Checks the S3 service runner against the real versitygw server: the calls
 * and key layout AlertCircle's archive uses (hourly JSONL objects under a
 * prefix), overwrite semantics, and that `stop` really ends the process.
 */

import assert from "node:assert/strict";
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { cacheDir } from "./service.ts";
import { provision, start } from "./s3.ts";

function isAlive(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return !/^\d+ \(.*\) [ZX]/.test(stat);
  } catch {
    return false;
  }
}

Deno.test("s3: versitygw stores, lists, overwrites and serves objects", async () => {
  await provision(cacheDir());
  const dataDir = await Deno.makeTempDir({ prefix: "alertcircle-s3-test-" });
  const s3 = await start({ cacheDir: cacheDir(), dataDir });
  const client = new S3Client({
    endpoint: s3.env.S3_ENDPOINT,
    region: s3.env.S3_REGION,
    forcePathStyle: true,
    credentials: {
      accessKeyId: s3.env.AWS_ACCESS_KEY_ID,
      secretAccessKey: s3.env.AWS_SECRET_ACCESS_KEY,
    },
  });
  try {
    assert.match(s3.env.S3_ENDPOINT, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(s3.env.S3_BUCKET, "alertcircle-archive");
    const Bucket = s3.env.S3_BUCKET;
    const prefix = "enriched-alerts/dt=2026-12-04/hour=15/";
    const Key = `${prefix}0-1-9.jsonl`;

    const first = '{"id":"a1","severity":"high"}\n';
    await client.send(
      new PutObjectCommand({
        Bucket,
        Key,
        Body: first,
        ContentType: "application/x-ndjson",
      }),
    );
    const listed = await client.send(
      new ListObjectsV2Command({ Bucket, Prefix: prefix }),
    );
    assert.deepEqual(listed.Contents?.map((o) => o.Key), [Key]);
    assert.equal(
      listed.Contents?.[0].Size,
      new TextEncoder().encode(first).length,
    );

    // Batches are re-written under the same key on retry: the second put must
    // replace the object, never sit beside it.
    const second = first + '{"id":"a2","severity":"low"}\n';
    await client.send(
      new PutObjectCommand({
        Bucket,
        Key,
        Body: second,
        ContentType: "application/x-ndjson",
      }),
    );
    const relisted = await client.send(
      new ListObjectsV2Command({ Bucket, Prefix: prefix }),
    );
    assert.equal(relisted.KeyCount, 1);
    assert.deepEqual(relisted.Contents?.map((o) => o.Key), [Key]);

    const other = await client.send(
      new ListObjectsV2Command({
        Bucket,
        Prefix: "enriched-alerts/dt=2026-12-05/",
      }),
    );
    assert.equal(other.KeyCount, 0);

    const got = await client.send(new GetObjectCommand({ Bucket, Key }));
    assert.equal(await got.Body?.transformToString(), second);
    assert.equal(got.ContentType, "application/x-ndjson");
  } finally {
    client.destroy();
    await s3.stop();
  }
  assert.equal(isAlive(s3.pid), false, `versitygw pid ${s3.pid} still running`);
  await Deno.remove(dataDir, { recursive: true });
});
