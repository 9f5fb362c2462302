/** GET /api/stats: counts for the dashboard header and operators (no user ids, no locations). */

import { Hono } from "hono";
import type { AppContext } from "../../app/context.ts";

export function statsRoutes(ctx: AppContext) {
  return new Hono().get("/", async (c) => c.json(await ctx.stats()));
}
