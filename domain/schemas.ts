/**
 * The shapes the outside world may send us, as zod schemas: API bodies (checked at the
 * edge, so a bad request is a 400 naming the field) and bus messages (checked again by
 * each stage, since anyone with access to a topic can write to it).
 */

import { z } from "zod";
import { ALERT_TYPES } from "./alert.ts";

const required = (what: string) => (issue: { input: unknown }) =>
  issue.input === undefined ? "is required" : `must be ${what}`;

export const latitude = z
  .number({ error: required("a number") })
  .refine(Number.isFinite, "must be a finite number")
  .refine((v) => v >= -90 && v <= 90, "must be between -90 and 90");

export const longitude = z
  .number({ error: required("a number") })
  .refine(Number.isFinite, "must be a finite number")
  .refine((v) => v >= -180 && v <= 180, "must be between -180 and 180");

/** User ids are opaque tokens: short, printable, no spaces, safe in URLs and logs. */
export const userId = z
  .string({ error: required("a string") })
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,63}$/,
    "must be 1–64 letters, digits or _ . : @ - (starting with a letter or digit)",
  );

export const alertType = z.enum(ALERT_TYPES, {
  error: (issue) => issue.input === undefined ? "is required" : `must be one of ${ALERT_TYPES.join(", ")}`,
});

export const NOTE_MAX = 280;

export const note = z
  .string({ error: "must be a string" })
  // Count characters as people do (code points), so an emoji is one, not two.
  .refine((s) => [...s].length <= NOTE_MAX, `must be at most ${NOTE_MAX} characters`)
  // Control characters have no place in a one-line note and confuse terminals and logs.
  // deno-lint-ignore no-control-regex -- matching control characters is the point
  .refine((s) => !/[\u0000-\u0008\u000b-\u001f\u007f]/.test(s), "must not contain control characters");

export const ReportInput = z.object({
  type: alertType,
  lat: latitude,
  lng: longitude,
  note: note.optional(),
  reporterId: userId,
});
export type ReportInput = z.infer<typeof ReportInput>;

export const LocationInput = z.object({
  userId,
  lat: latitude,
  lng: longitude,
});
export type LocationInput = z.infer<typeof LocationInput>;

const isoTime = z.string().refine((s) => !Number.isNaN(Date.parse(s)), "must be an ISO-8601 time");

/** A `raw_alerts` message. */
export const ReportMessage = ReportInput.extend({
  id: z.string().min(1).max(64),
  reportedAt: isoTime,
  source: z.enum(["api", "simulator"]),
});

/** Long arrays are checked with a plain loop: a per-element schema costs more than the rest of the alert. */
const arrayOf = <T>(kind: "string" | "number", what: string) =>
  z.custom<T[]>((v) => Array.isArray(v) && v.every((x) => typeof x === kind), `must be an array of ${what}`);

/** A new alert on `enriched_alerts`. */
export const EnrichedAlertMessage = ReportMessage.extend({
  kind: z.literal("alert").optional(),
  radiusM: z.number().positive(),
  notifiedUserIds: arrayOf<string>("string", "strings"),
  distancesM: arrayOf<number>("number", "numbers"),
  notifiedCount: z.number().int().nonnegative(),
  enrichedAt: isoTime,
  expiresAt: isoTime,
}).refine((a) => a.notifiedUserIds.length === a.distancesM.length, "notifiedUserIds and distancesM differ in length");

/** A change to an alert on `enriched_alerts`. */
export const AlertUpdateMessage = z.object({
  kind: z.literal("update"),
  id: z.string().min(1).max(100),
  alertId: z.string().min(1).max(64),
  lat: latitude,
  lng: longitude,
  at: isoTime,
  confirmedBy: z.string().max(64).optional(),
  expiresAt: isoTime,
  ended: z.boolean().optional(),
});

/** A `public_alerts` message: an alert or a change, as the archive keeps it. */
export const AlertEventRecordMessage = z.discriminatedUnion("kind", [
  z.object({
    kind: z.literal("alert"),
    id: z.string().min(1).max(64),
    type: alertType,
    lat: latitude,
    lng: longitude,
    note: z.string().max(4 * NOTE_MAX).optional(),
    reportedAt: isoTime,
    enrichedAt: isoTime,
    expiresAt: isoTime,
    radiusM: z.number().positive(),
    notifiedCount: z.number().int().nonnegative(),
    area: z.string().min(1).max(64),
    source: z.string().min(1).max(32),
  }),
  z.object({
    kind: z.literal("update"),
    id: z.string().min(1).max(100),
    alertId: z.string().min(1).max(64),
    at: isoTime,
    expiresAt: isoTime,
    confirmedBy: z.string().max(64).optional(),
    ended: z.boolean().optional(),
    area: z.string().min(1).max(64),
  }),
]);

/** A `user_locations` message (the key is the user id; a null value forgets the user). */
export const LocationMessage = z.object({
  lat: latitude,
  lng: longitude,
  seenAt: z.number().int().nonnegative(),
});

export interface FieldError {
  field: string;
  reason: string;
}

/** zod issues as the API reports them: one entry per bad field. */
export function fieldErrors(error: z.ZodError): FieldError[] {
  const seen = new Set<string>();
  const out: FieldError[] = [];
  for (const issue of error.issues) {
    const field = issue.path.length > 0 ? issue.path.join(".") : "body";
    if (seen.has(field)) continue;
    seen.add(field);
    let reason = issue.message;
    if (issue.code === "invalid_type" && issue.path.length === 0) reason = "must be a JSON object";
    out.push({ field, reason });
  }
  return out;
}
