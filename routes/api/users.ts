/** GET /api/users/:id/notifications: the user's recent notifications for alerts still live, newest first. */

import { Hono } from "hono";
import type { AppContext } from "../../app/context.ts";
import { userId as userIdSchema } from "../../domain/schemas.ts";
import { invalid } from "../problem.ts";
import { parseLimit } from "../query.ts";

export function userRoutes(ctx: AppContext) {
  return new Hono().get("/:id/notifications", async (c) => {
    const id = userIdSchema.safeParse(c.req.param("id"));
    const limit = parseLimit(c.req.query("limit"), 50, 50);
    const errors = [
      ...(id.success ? [] : [{ field: "userId", reason: id.error.issues[0].message }]),
      ...(limit.ok ? [] : [limit.error]),
    ];
    if (!id.success || !limit.ok) return invalid(c, errors);
    const notifications = await ctx.store.alerts.notificationsFor(id.data, Date.now(), limit.value);
    return c.json({ userId: id.data, notifications });
  });
}
