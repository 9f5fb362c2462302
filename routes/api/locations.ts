/**
 * POST /api/locations (a user's latest position), DELETE /api/locations/:userId (forget
 * it now), GET /api/locations (active users for the demo map's dots).
 */

import { Hono } from "hono";
import type { AppContext } from "../../app/context.ts";
import type { LocationInput } from "../../domain/schemas.ts";
import { LocationInput as LocationSchema, userId as userIdSchema } from "../../domain/schemas.ts";
import type { JsonBodyEnv } from "../json_body.ts";
import { jsonBody } from "../json_body.ts";
import { invalid } from "../problem.ts";
import { parseBBox, parseLimit } from "../query.ts";

export function locationRoutes(ctx: AppContext) {
  return new Hono<JsonBodyEnv<LocationInput>>()
    .post("/", jsonBody(LocationSchema), async (c) => {
      const { userId, lat, lng } = c.get("body");
      const seenAt = Date.now();
      await ctx.locations.record([{ userId, lat, lng, seenAt }]);
      return c.json({ userId, seenAt: new Date(seenAt).toISOString(), expiresInS: ctx.config.locationTtlS });
    })
    .delete("/:userId", async (c) => {
      const id = userIdSchema.safeParse(c.req.param("userId"));
      if (!id.success) return invalid(c, [{ field: "userId", reason: id.error.issues[0].message }]);
      await ctx.locations.forget(id.data);
      return c.body(null, 204);
    })
    .get("/", async (c) => {
      const bbox = parseBBox(c.req.query("bbox"));
      const limit = parseLimit(c.req.query("limit"), 2_000, 10_000);
      if (!bbox.ok || !limit.ok) return invalid(c, [bbox, limit].flatMap((p) => p.ok ? [] : [p.error]));
      const users = await ctx.proximity.active(Date.now(), { bbox: bbox.value, limit: limit.value });
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
