/** Helpers for tests on the real engines: polling, and reading the archive back from S3. */

import { GetObjectCommand, ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import { realServices } from "./services.ts";

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export function s3Client() {
  const s = realServices().s3;
  return new S3Client({
    region: s.region,
    endpoint: s.endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: s.accessKeyId, secretAccessKey: s.secretAccessKey },
  });
}

/** Every archived record under a prefix, read back from the S3 server. */
export async function archivedRecords(prefix: string): Promise<Array<{ key: string; id: string }>> {
  const s3 = s3Client();
  const bucket = realServices().s3.bucket;
  const out: Array<{ key: string; id: string }> = [];
  const list = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  for (const o of list.Contents ?? []) {
    const body = await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: o.Key! }))).Body!.transformToString();
    for (const line of body.trim().split("\n")) out.push({ key: o.Key!, id: JSON.parse(line).id });
  }
  s3.destroy();
  return out;
}
