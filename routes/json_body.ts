/**
 * Middleware factory for JSON request bodies: 415 unless the body is declared JSON,
 * 400 naming `body` for text that is not JSON, 400 naming each bad field otherwise. The
 * parsed value is then `c.get("body")`. (Size is capped before this by Hono's bodyLimit.)
 */

import type { MiddlewareHandler } from "hono";
import type { z } from "zod";
import { fieldErrors } from "../domain/schemas.ts";
import { invalid, problem } from "./problem.ts";

export type JsonBodyEnv<T> = { Variables: { body: T } };

export function jsonBody<T>(schema: z.ZodType<T>): MiddlewareHandler<JsonBodyEnv<T>> {
  return async (c, next) => {
    const type = c.req.header("content-type") ?? "";
    if (!/^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i.test(type)) {
      return problem(c, 415, "unsupported_media_type", "send the body as JSON with Content-Type: application/json", [
        { field: "content-type", reason: "must be application/json" },
      ]);
    }
    let json: unknown;
    try {
      json = JSON.parse(await c.req.text());
    } catch {
      return invalid(c, [{ field: "body", reason: "is not valid JSON" }]);
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) return invalid(c, fieldErrors(parsed.error));
    c.set("body", parsed.data);
    await next();
  };
}
