/**
 * POST /api/users (a new identity: id + token, also set as an HttpOnly cookie for the
 * dashboard; rate limited per address), GET /api/users/me, and
 * GET /api/users/:id/notifications (one's own recent notifications, newest first).
 */

import { Hono } from "hono";
import { setCookie } from "hono/cookie";
import type { AppContext } from "../../app/context.ts";
import { userId as userIdSchema } from "../../domain/schemas.ts";
import type { AuthEnv } from "../auth.ts";
import { clientAddress, mayRead, rateLimit, refuseRead, requireUser, TOKEN_COOKIE } from "../auth.ts";
import { invalid } from "../problem.ts";
import { parseLimit } from "../query.ts";

export function userRoutes(ctx: AppContext) {
  const { config } = ctx;
  return new Hono<AuthEnv>()
    .post(
      "/",
      rateLimit<AuthEnv>(
        ctx.limits.identitiesPerAddress,
        (c) => clientAddress(c, config.trustProxy),
        "new identities from this address",
      ),
      (c) => {
        const { userId, token } = ctx.identity.issue();
        const https = new URL(c.req.url).protocol === "https:" || c.req.header("x-forwarded-proto") === "https";
        setCookie(c, TOKEN_COOKIE, token, {
          httpOnly: true,
          sameSite: "Strict",
          secure: https,
          path: "/",
          maxAge: 365 * 24 * 3600,
        });
        return c.json({ userId, token }, 201);
      },
    )
    .get("/me", requireUser(), (c) => c.json({ userId: c.get("userId") }))
    .get("/:id/notifications", async (c) => {
      const id = userIdSchema.safeParse(c.req.param("id"));
      const limit = parseLimit(c.req.query("limit"), 50, 50);
      const errors = [
        ...(id.success ? [] : [{ field: "userId", reason: id.error.issues[0].message }]),
        ...(limit.ok ? [] : [limit.error]),
      ];
      if (!id.success || !limit.ok) return invalid(c, errors);
      if (!mayRead(c, id.data, config.simulate)) return refuseRead(c, "this feed");
      const notifications = await ctx.store.alerts.notificationsFor(id.data, Date.now(), limit.value);
      return c.json({ userId: id.data, notifications });
    });
}
