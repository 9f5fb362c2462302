/**
 * POST /api/locations (your latest position: your token, at most RATE_LOCATIONS_PER_USER),
 * DELETE /api/locations/:userId (forget yours now), GET /api/locations (positions for the
 * map: every user's only for an operator with ADMIN_TOKEN; in the demo, the simulated
 * users'; otherwise nobody's).
 */

import { Hono } from "hono";
import type { Context } from "hono";
import { timingSafeEqual } from "node:crypto";
import type { AppContext } from "../../app/context.ts";
import type { LocationInput } from "../../domain/schemas.ts";
import { LocationInput as LocationSchema, userId as userIdSchema } from "../../domain/schemas.ts";
import type { AuthEnv } from "../auth.ts";
import { forbidden, rateLimit, requireUser } from "../auth.ts";
import type { JsonBodyEnv } from "../json_body.ts";
import { jsonBody } from "../json_body.ts";
import { invalid, problem } from "../problem.ts";
import { parseBBox, parseLimit } from "../query.ts";

type Env = JsonBodyEnv<LocationInput> & AuthEnv;

function isOperator(c: Context, adminToken: string | undefined): boolean {
  if (!adminToken) return false;
  const given = /^Bearer\s+(\S+)$/i.exec(c.req.header("authorization") ?? "")?.[1] ?? "";
  const a = new TextEncoder().encode(given);
  const b = new TextEncoder().encode(adminToken);
  return a.length === b.length && timingSafeEqual(a, b);
}

export function locationRoutes(ctx: AppContext) {
  return new Hono<Env>()
    .post(
      "/",
      requireUser(),
      jsonBody(LocationSchema),
      async (c, next) => c.get("body").userId === c.get("userId") ? await next() : forbidden(c, "userId"),
      rateLimit<Env>(ctx.limits.locationsPerUser, (c) => c.get("userId"), "location updates"),
      async (c) => {
        const { userId, lat, lng } = c.get("body");
        const seenAt = Date.now();
        await ctx.locations.record([{ userId, lat, lng, seenAt }]);
        return c.json({ userId, seenAt: new Date(seenAt).toISOString(), expiresInS: ctx.config.locationTtlS });
      },
    )
    .delete("/:userId", requireUser(), async (c) => {
      const id = userIdSchema.safeParse(c.req.param("userId"));
      if (!id.success) return invalid(c, [{ field: "userId", reason: id.error.issues[0].message }]);
      if (id.data !== c.get("userId")) return forbidden(c, "this location");
      await ctx.locations.forget(id.data);
      return c.body(null, 204);
    })
    .get("/", async (c) => {
      const operator = isOperator(c, ctx.config.adminToken);
      if (!operator && !ctx.config.simulate) {
        return problem(
          c,
          403,
          "forbidden",
          "users' positions are shown to operators only (Authorization: Bearer <ADMIN_TOKEN>)",
        );
      }
      const bbox = parseBBox(c.req.query("bbox"));
      const limit = parseLimit(c.req.query("limit"), 2_000, 10_000);
      if (!bbox.ok || !limit.ok) return invalid(c, [bbox, limit].flatMap((p) => p.ok ? [] : [p.error]));
      const users = await ctx.proximity.active(Date.now(), {
        bbox: bbox.value,
        limit: limit.value,
        // The demo shows its own simulated people; real users' positions need an operator.
        idPrefix: operator ? undefined : "sim-",
      });
      return c.json({
        users: users.map((u) => ({
          userId: u.userId,
          lat: u.lat,
          lng: u.lng,
          seenAt: new Date(u.seenAt).toISOString(),
        })),
        count: users.length,
      });
    });
}
