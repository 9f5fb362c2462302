/**
 * The three real servers together: provision them (in parallel, cached) and start them
 * on 127.0.0.1, returning their connection settings as AlertCircle's environment
 * variables (KAFKA_BROKERS, MONGODB_URI, S3_*, AWS_*).
 */

import * as ferretdb from "./ferretdb.ts";
import * as kafka from "./kafka.ts";
import * as s3 from "./s3.ts";
import type { RunningService } from "./service.ts";

export const SERVICES = { kafka, ferretdb, s3 } as const;

export async function provisionAll(cacheDir: string): Promise<void> {
  const started = performance.now();
  await Promise.all([kafka.provision(cacheDir), ferretdb.provision(cacheDir), s3.provision(cacheDir)]);
  console.log(`[services] provisioned in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

export interface RunningServices {
  services: RunningService[];
  env: Record<string, string>;
  stop(): Promise<void>;
}

export async function startAll(cacheDir: string, dataDir: string, detached = false): Promise<RunningServices> {
  const started = performance.now();
  const results = await Promise.allSettled([
    kafka.start({ cacheDir, dataDir: `${dataDir}/kafka`, detached }),
    ferretdb.start({ cacheDir, dataDir: `${dataDir}/ferretdb`, detached }),
    s3.start({ cacheDir, dataDir: `${dataDir}/s3`, detached }),
  ]);
  const services = results.flatMap((r) => r.status === "fulfilled" ? [r.value] : []);
  const failed = results.flatMap((r) => r.status === "rejected" ? [r.reason] : []);
  if (failed.length > 0) {
    await Promise.allSettled(services.map((s) => s.stop()));
    throw new AggregateError(failed, `could not start: ${failed.map(String).join("; ")}`);
  }
  console.log(`[services] started in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return {
    services,
    env: Object.assign({}, ...services.map((s) => s.env)),
    stop: async () => {
      await Promise.allSettled(services.map((s) => s.stop()));
    },
  };
}
