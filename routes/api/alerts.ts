/** GET /api/alerts (live alerts, optional bbox) and GET /api/alerts/:id. Public data only: no user ids. */

import { Hono } from "hono";
import type { AppContext } from "../../app/context.ts";
import { invalid, problem } from "../problem.ts";
import { parseBBox, parseLimit } from "../query.ts";

export function alertRoutes(ctx: AppContext) {
  return new Hono()
    .get("/", async (c) => {
      const bbox = parseBBox(c.req.query("bbox"));
      const limit = parseLimit(c.req.query("limit"), 500, 5_000);
      const errors = [bbox, limit].flatMap((p) => p.ok ? [] : [p.error]);
      if (!bbox.ok || !limit.ok) return invalid(c, errors);
      const alerts = await ctx.store.alerts.live(Date.now(), { bbox: bbox.value, limit: limit.value });
      return c.json({ alerts, count: alerts.length });
    })
    .get("/:id", async (c) => {
      const alert = await ctx.store.alerts.get(c.req.param("id"), Date.now());
      if (!alert) return problem(c, 404, "not_found", "no live alert with that id");
      return c.json(alert);
    });
}
