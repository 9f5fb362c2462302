/**
 * POST /api/reports: a sighting in, 202 with its id once it is durable on the bus.
 * Reporting takes a token (reporterId must be the token's user), and is rate limited
 * per client address (before anything else) and per user.
 */

import { Hono } from "hono";
import type { AppContext } from "../../app/context.ts";
import { NotAccepted } from "../../app/reports.ts";
import { ReportInput } from "../../domain/schemas.ts";
import type { AuthEnv } from "../auth.ts";
import { clientAddress, forbidden, rateLimit, requireUser } from "../auth.ts";
import type { JsonBodyEnv } from "../json_body.ts";
import { jsonBody } from "../json_body.ts";
import { problem } from "../problem.ts";

type Env = JsonBodyEnv<ReportInput> & AuthEnv;

export function reportRoutes(ctx: AppContext) {
  const { limits, config } = ctx;
  return new Hono<Env>().post(
    "/",
    rateLimit<Env>(limits.reportsPerAddress, (c) => clientAddress(c, config.trustProxy), "reports from this address"),
    requireUser(),
    jsonBody(ReportInput),
    async (c, next) => c.get("body").reporterId === c.get("userId") ? await next() : forbidden(c, "reporterId"),
    rateLimit<Env>(limits.reportsPerUser, (c) => c.get("userId"), "reports"),
    async (c) => {
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
    },
  );
}
