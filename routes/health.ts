/** GET /healthz (the process answers) and GET /readyz (every port can do its job; 503 if not). */

import { Hono } from "hono";
import type { AppContext } from "../app/context.ts";

export function healthRoutes(ctx: AppContext) {
  return new Hono()
    .get("/healthz", (c) => c.json({ status: "ok" }))
    .get("/readyz", async (c) => {
      const r = await ctx.readiness();
      return c.json(r, r.ready ? 200 : 503);
    });
}
