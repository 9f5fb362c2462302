/**
 * The HTTP surface: Hono's own middleware (secure headers with a CSP that allows only
 * our origin and the configured tile host, a 16 KiB body limit, optional CORS, request
 * logging at debug level), one sub-app per resource, and JSON errors everywhere that
 * never carry a stack trace.
 */

import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { cors } from "hono/cors";
import { HTTPException } from "hono/http-exception";
import { logger } from "hono/logger";
import { secureHeaders } from "hono/secure-headers";
import type { AppContext } from "../app/context.ts";
import { log } from "../log.ts";
import { alertRoutes } from "./api/alerts.ts";
import { locationRoutes } from "./api/locations.ts";
import { reportRoutes } from "./api/reports.ts";
import { statsRoutes } from "./api/stats.ts";
import { streamRoutes } from "./api/stream.ts";
import { userRoutes } from "./api/users.ts";
import { clientEntry } from "./client_entry.ts";
import { identify } from "./auth.ts";
import { healthRoutes } from "./health.ts";
import { pageRoutes } from "./pages.tsx";
import { problem } from "./problem.ts";
import { staticRoutes } from "./static.ts";

export const MAX_BODY_BYTES = 16 * 1024;

/** The origin pattern a CSP needs for a tile URL template like https://{s}.tile.example.org/{z}/{x}/{y}.png. */
export function tileSource(tileUrl: string): string {
  const u = new URL(tileUrl.replace("{s}", "s-placeholder"));
  return `${u.protocol}//${u.host.replace("s-placeholder", "*")}`;
}

export interface HttpOptions {
  /** SSE heartbeat interval (tests shorten it); the hub sends them (see app/wiring.ts). */
  heartbeatMs?: number;
  /** Frames buffered per SSE client before it is dropped as too slow. */
  sseQueueFrames?: number;
  corsOrigins?: string[];
}

export function createHttpApp(ctx: AppContext, options: HttpOptions = {}): Hono {
  const app = new Hono();
  app.use(
    "*",
    secureHeaders({
      contentSecurityPolicy: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", "data:", tileSource(ctx.config.tileUrl)],
        connectSrc: ["'self'"],
        fontSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
      },
      // Tiles come from another origin without CORP headers; requiring them would blank the map.
      crossOriginEmbedderPolicy: false,
    }),
  );
  app.use("*", logger((line) => log.debug("http", { line })));
  app.use(
    "/api/*",
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: (c) =>
        problem(c, 413, "payload_too_large", `request bodies are limited to ${MAX_BODY_BYTES} bytes`, [
          { field: "body", reason: `must be at most ${MAX_BODY_BYTES} bytes` },
        ]),
    }),
  );
  const corsOrigins = options.corsOrigins ?? ctx.config.corsOrigins;
  if (corsOrigins.length > 0) {
    app.use("/api/*", cors({ origin: corsOrigins, allowHeaders: ["Content-Type", "Authorization", "Last-Event-ID"] }));
  }

  app.use("/api/*", identify(ctx.identity));
  app.route("/api/reports", reportRoutes(ctx));
  app.route("/api/locations", locationRoutes(ctx));
  app.route("/api/alerts", alertRoutes(ctx));
  app.route("/api/users", userRoutes(ctx));
  app.route(
    "/api/stream",
    streamRoutes(ctx, { queueFrames: options.sseQueueFrames }),
  );
  app.route("/api/stats", statsRoutes(ctx));
  app.route("/static", staticRoutes());
  app.route("/", healthRoutes(ctx));
  app.route("/", pageRoutes(ctx, clientEntry));

  app.notFound((c) => problem(c, 404, "not_found", `no route for ${c.req.method} ${new URL(c.req.url).pathname}`));
  app.onError((err, c) => {
    if (err instanceof HTTPException && err.status < 500) {
      return problem(c, err.status, "bad_request", err.message || "bad request");
    }
    log.error("http.unhandled", { method: c.req.method, path: new URL(c.req.url).pathname, error: String(err) });
    return problem(c, 500, "internal", "something went wrong on our side; it has been logged");
  });
  return app;
}
