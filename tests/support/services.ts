/**
 * The real servers the integration tests run against, as `deno task test` started them
 * (TEST_KAFKA_BROKERS, TEST_MONGODB_URI, TEST_S3_*). Each test gets its own topic prefix,
 * database and key prefix, so tests never see each other's data.
 */

export interface RealServices {
  kafkaBrokers: string;
  mongoUri: string;
  s3: { endpoint: string; bucket: string; region: string; accessKeyId: string; secretAccessKey: string };
}

export function realServices(): RealServices {
  const get = (name: string) => {
    const v = Deno.env.get(`TEST_${name}`);
    if (!v) {
      throw new Error(
        `TEST_${name} is not set: run the tests with \`deno task test\`, which starts Kafka, FerretDB and the S3 server`,
      );
    }
    return v;
  };
  return {
    kafkaBrokers: get("KAFKA_BROKERS"),
    mongoUri: get("MONGODB_URI"),
    s3: {
      endpoint: get("S3_ENDPOINT"),
      bucket: get("S3_BUCKET"),
      region: get("S3_REGION"),
      accessKeyId: get("AWS_ACCESS_KEY_ID"),
      secretAccessKey: get("AWS_SECRET_ACCESS_KEY"),
    },
  };
}

/** A name no other test run uses: for topic prefixes, databases and key prefixes. */
export function uniqueName(label: string): string {
  return `${label}-${Date.now().toString(36)}-${crypto.randomUUID().slice(0, 6)}`;
}

/**
 * AlertCircle's environment for all three real engines, isolated under `name`.
 * The S3 credentials go through the standard AWS variables, as in production.
 */
export function fullModeEnv(name: string, s = realServices()): Record<string, string> {
  return {
    KAFKA_BROKERS: s.kafkaBrokers,
    KAFKA_TOPIC_PREFIX: `${name}.`,
    MONGODB_URI: s.mongoUri,
    MONGODB_DATABASE: name.replace(/[^A-Za-z0-9_]/g, "_"),
    S3_BUCKET: s.s3.bucket,
    S3_ENDPOINT: s.s3.endpoint,
    S3_REGION: s.s3.region,
    S3_PREFIX: `${name}/enriched-alerts`,
    AWS_ACCESS_KEY_ID: s.s3.accessKeyId,
    AWS_SECRET_ACCESS_KEY: s.s3.secretAccessKey,
    // Instances share it, so a token from one holds on all (and across restarts).
    AUTH_SECRET: `test-secret-${name}`.padEnd(32, "x"),
  };
}
