/**
 * Shared shape of the real servers that tests, benchmarks and `deno task services:up`
 * start on 127.0.0.1: Apache Kafka, a MongoDB wire-protocol server (FerretDB) and an
 * S3-compatible object store. Each one lives in its own file and exports
 * `provision(cacheDir)` (download/build once, cached) and `start(options)`.
 */

/** Where downloads and builds are cached between runs (never committed). */
export function cacheDir(): string {
  return Deno.env.get("ALERTCIRCLE_CACHE") ??
    `${Deno.env.get("HOME") ?? "."}/.cache/alertcircle`;
}

export interface StartOptions {
  /** Cache folder holding what `provision` fetched or built. */
  cacheDir: string;
  /** A fresh folder the server may keep its data and logs in. */
  dataDir: string;
  /** Port on 127.0.0.1; 0 or absent picks a free one. */
  port?: number;
}

export interface RunningService {
  name: string;
  /** Process id of the server (so `services:down` can stop a detached one). */
  pid: number;
  /** Connection settings for AlertCircle, e.g. { KAFKA_BROKERS: "127.0.0.1:9092" }. */
  env: Record<string, string>;
  /** Stops the server and waits for the process to exit. */
  stop(): Promise<void>;
}

/** Asks the kernel for a free TCP port on loopback. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}
