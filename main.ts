/**
 * AlertCircle's entry point: reads the configuration, builds the app, listens, runs the
 * minute job on Deno.cron, and shuts down gracefully on SIGINT/SIGTERM. Everything
 * else lives in app/wiring.ts.
 */

import { buildApp } from "./app/wiring.ts";
import { ConfigError, describeConfig, loadConfig } from "./config.ts";
import { log, setLogLevel } from "./log.ts";

function readConfig() {
  try {
    return loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`alertcircle: bad configuration: ${err.message}`);
      Deno.exit(2);
    }
    throw err;
  }
}

const config = readConfig();

// `alertcircle healthcheck`: for container HEALTHCHECKs in images that have no curl.
if (Deno.args[0] === "healthcheck") {
  const host = config.host === "0.0.0.0" ? "127.0.0.1" : config.host;
  const ok = await fetch(`http://${host}:${config.port}/healthz`).then((r) => r.ok, () => false);
  Deno.exit(ok ? 0 : 1);
}

setLogLevel(config.logLevel);
log.info("config", describeConfig(config));

const app = await buildApp(config);
await app.start();

const server = Deno.serve({
  hostname: config.host,
  port: config.port,
  onListen: ({ hostname, port }) => {
    const shown = hostname === "0.0.0.0" ? "localhost" : hostname;
    log.info("http.listening", { url: `http://${shown}:${port}` });
    console.log(`AlertCircle dashboard: http://${shown}:${port}`);
  },
}, app.http.fetch);

const cronStop = new AbortController();
Deno.cron("alertcircle-location-job", "* * * * *", { signal: cronStop.signal }, async () => {
  await app.locationJob.run().catch((err) => log.error("job.location_failed", { error: String(err) }));
});

const SHUTDOWN_TIMEOUT_MS = 25_000;
let stopping = false;
async function stop(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log.info("app.stopping", { signal });
  // Never hang on the way out: what is not committed by then is delivered again later.
  setTimeout(() => {
    log.error("app.stop_timeout", { afterMs: SHUTDOWN_TIMEOUT_MS });
    Deno.exit(1);
  }, SHUTDOWN_TIMEOUT_MS);
  cronStop.abort();
  // Streams are ended first: the listener waits for open responses, and SSE never ends by itself.
  app.ctx.hub.closeAll("server shutting down");
  await server.shutdown();
  await app.shutdown();
  Deno.exit(0);
}

for (const signal of ["SIGINT", "SIGTERM"] as const) Deno.addSignalListener(signal, () => stop(signal));
