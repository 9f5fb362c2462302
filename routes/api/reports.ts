/** POST /api/reports: a sighting in, 202 with its id once it is durable on the bus. */

import { Hono } from "hono";
import type { AppContext } from "../../app/context.ts";
import { NotAccepted } from "../../app/reports.ts";
import { ReportInput } from "../../domain/schemas.ts";
import type { JsonBodyEnv } from "../json_body.ts";
import { jsonBody } from "../json_body.ts";
import { problem } from "../problem.ts";

export function reportRoutes(ctx: AppContext) {
  return new Hono<JsonBodyEnv<ReportInput>>().post("/", jsonBody(ReportInput), async (c) => {
    try {
      const report = await ctx.intake.submit(c.get("body"));
      c.header("Location", `/api/alerts/${report.id}`);
      return c.json({ id: report.id, reportedAt: report.reportedAt, status: "accepted" }, 202);
    } catch (err) {
      if (err instanceof NotAccepted) {
        c.header("Retry-After", "5");
        return problem(c, 503, "unavailable", err.message);
      }
      throw err;
    }
  });
}
