/**
 * GET /api/alerts (live alerts, optional bbox), GET /api/alerts/:id, and
 * POST /api/alerts/:id/gone (people near an alert say it is gone; enough of them end it).
 * Public data only: no user ids.
 */

import { Hono } from "hono";
import type { AppContext } from "../../app/context.ts";
import type { AuthEnv } from "../auth.ts";
import { requireUser } from "../auth.ts";
import { invalid, problem } from "../problem.ts";
import { parseBBox, parseLimit } from "../query.ts";

export function alertRoutes(ctx: AppContext) {
  return new Hono<AuthEnv>()
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
    })
    .post("/:id/gone", requireUser(), async (c) => {
      const vote = await ctx.alertActions.voteGone(c.req.param("id"), c.get("userId")!);
      switch (vote.outcome) {
        case "not_found":
          return problem(c, 404, "not_found", "no live alert with that id");
        case "too_far":
          return problem(
            c,
            403,
            "too_far",
            vote.distanceM === undefined
              ? "share your location first: only people near an alert can say it is gone"
              : `only people within ${vote.radiusM} m can say it is gone; you are ${Math.round(vote.distanceM)} m away`,
          );
        default:
          return c.json({
            votes: vote.votes,
            needed: vote.needed,
            ended: vote.ended,
            counted: vote.outcome === "counted",
          });
      }
    });
}
