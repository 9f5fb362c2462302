/**
 * The archive on S3 or any S3-compatible store (`S3_BUCKET`, `S3_ENDPOINT` for
 * non-AWS endpoints, path-style addressing there). Credentials come from the standard
 * AWS chain (environment, profile, instance role). Every request has a timeout, so an
 * unreachable store fails the archive stage's step (which then retries) instead of
 * hanging it.
 */

import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadBucketCommand,
  ListObjectsV2Command,
  NoSuchKey,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import type { Config } from "../../config.ts";
import type { Archive } from "./port.ts";

type S3Settings = NonNullable<Config["s3"]>;

const REQUEST_TIMEOUT_MS = 10_000;

export class S3Archive implements Archive {
  readonly kind = "s3";
  private readonly client: S3Client;
  private readonly prefix: string;

  constructor(private readonly settings: S3Settings) {
    this.client = new S3Client({
      region: settings.region,
      endpoint: settings.endpoint,
      forcePathStyle: settings.forcePathStyle,
      maxAttempts: 2,
      requestHandler: { requestTimeout: REQUEST_TIMEOUT_MS, connectionTimeout: 3_000 },
    });
    this.prefix = settings.prefix.replace(/\/+$/, "") + "/";
  }

  /** Creates the bucket when it does not exist yet (convenient for S3-compatible stores in development). */
  async ensureBucket(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.settings.bucket }));
    } catch (err) {
      if (httpStatus(err) !== 404) throw err;
      await this.client.send(new CreateBucketCommand({ Bucket: this.settings.bucket }));
    }
  }

  async put(key: string, body: string): Promise<void> {
    await this.client.send(
      new PutObjectCommand({
        Bucket: this.settings.bucket,
        Key: this.prefix + key,
        Body: body,
        ContentType: "application/x-ndjson",
      }),
    );
  }

  async list(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({
          Bucket: this.settings.bucket,
          Prefix: this.prefix + prefix,
          ContinuationToken: token,
        }),
      );
      for (const o of page.Contents ?? []) if (o.Key) keys.push(o.Key.slice(this.prefix.length));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return keys.sort();
  }

  async get(key: string): Promise<string | undefined> {
    try {
      const out = await this.client.send(
        new GetObjectCommand({ Bucket: this.settings.bucket, Key: this.prefix + key }),
      );
      return await out.Body?.transformToString();
    } catch (err) {
      if (err instanceof NoSuchKey || httpStatus(err) === 404) return undefined;
      throw err;
    }
  }

  async health() {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.settings.bucket }));
      return { ok: true, detail: `s3://${this.settings.bucket}/${this.prefix}` };
    } catch (err) {
      return { ok: false, detail: `s3://${this.settings.bucket}: ${describe(err)}` };
    }
  }

  close(): Promise<void> {
    this.client.destroy();
    return Promise.resolve();
  }
}

function httpStatus(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
}

function describe(err: unknown): string {
  const status = httpStatus(err);
  const message = err instanceof Error ? err.message || err.name : String(err);
  return status ? `HTTP ${status} ${message}` : message;
}
