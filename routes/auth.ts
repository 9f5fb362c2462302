/**
 * Who is calling: middleware factories for identities (a bearer token, or the HttpOnly
 * cookie the dashboard gets), ownership checks, client addresses and rate limits. 401
 * means "no valid token", 403 "valid, but not yours", 429 "slow down" with Retry-After.
 */

import type { Context, MiddlewareHandler } from "hono";
import { getCookie } from "hono/cookie";
import type { Identity } from "../app/identity.ts";
import type { RateLimiter } from "../app/rate_limiter.ts";
import { problem } from "./problem.ts";

export type AuthEnv = { Variables: { userId?: string } };

export const TOKEN_COOKIE = "ac_token";

function bearer(c: Context): string | undefined {
  const header = c.req.header("authorization");
  const m = header ? /^Bearer\s+(\S+)$/i.exec(header) : null;
  return m?.[1] ?? getCookie(c, TOKEN_COOKIE);
}

/** Notes the caller's user id when the request carries a valid token; never refuses. */
export function identify(identity: Identity): MiddlewareHandler<AuthEnv> {
  return async (c, next) => {
    const userId = identity.verify(bearer(c));
    if (userId) c.set("userId", userId);
    await next();
  };
}

export function unauthorized(c: Context): Response {
  c.header("WWW-Authenticate", 'Bearer realm="alertcircle"');
  return problem(c, 401, "unauthorized", "send your token: Authorization: Bearer <token> (from POST /api/users)");
}

/** 401 unless the request carries a valid token. */
export function requireUser(): MiddlewareHandler<AuthEnv> {
  return async (c, next) => {
    if (!c.get("userId")) return unauthorized(c);
    await next();
  };
}

/** 401 without a token, 403 with someone else's: for a refused read of `userId`'s data. */
export function refuseRead(c: Context<AuthEnv>, what: string): Response {
  return c.get("userId") ? forbidden(c, what) : unauthorized(c);
}

/**
 * Whether the caller may read `userId`'s own data: their own, or — in the demo, when the
 * simulation runs — a simulated user's, which anyone may watch.
 */
export function mayRead(c: Context<AuthEnv>, userId: string, demo: boolean): boolean {
  return c.get("userId") === userId || (demo && userId.startsWith("sim-"));
}

export function forbidden(c: Context, what: string): Response {
  return problem(c, 403, "forbidden", `${what} belongs to another user`);
}

/** The client's address: the socket's, or with TRUST_PROXY the first X-Forwarded-For entry. */
export function clientAddress(c: Context, trustProxy: boolean): string {
  if (trustProxy) {
    const forwarded = c.req.header("x-forwarded-for")?.split(",")[0]?.trim();
    if (forwarded) return forwarded;
  }
  const info = c.env as { remoteAddr?: { hostname?: string } } | undefined;
  return info?.remoteAddr?.hostname ?? "unknown";
}

/** 429 with Retry-After once `key` (e.g. the user, the address) is over its limit. */
export function rateLimit<E extends AuthEnv>(
  limiter: RateLimiter,
  key: (c: Context<E>) => string | undefined,
  what: string,
): MiddlewareHandler<E> {
  return async (c, next) => {
    const k = key(c);
    if (k !== undefined) {
      const verdict = limiter.take(k);
      if (!verdict.ok) {
        c.header("Retry-After", String(verdict.retryAfterS));
        return problem(c, 429, "rate_limited", `too many ${what}; retry in ${verdict.retryAfterS} s`);
      }
    }
    await next();
  };
}
