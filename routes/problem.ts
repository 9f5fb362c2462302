/**
 * The one shape every API error takes: `{ error, message, fields? }`, where `fields`
 * names each bad input and why. No stack traces or internal addresses ever go out.
 */

import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { FieldError } from "../domain/schemas.ts";

export interface Problem {
  error: string;
  message: string;
  fields?: FieldError[];
}

export function problem(
  c: Context,
  status: ContentfulStatusCode,
  error: string,
  message: string,
  fields?: FieldError[],
): Response {
  const body: Problem = { error, message };
  if (fields) body.fields = fields;
  return c.json(body, status);
}

export function invalid(c: Context, fields: FieldError[]): Response {
  return problem(c, 400, "invalid_request", fields.map((f) => `${f.field} ${f.reason}`).join("; "), fields);
}
