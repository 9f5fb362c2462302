/**
 * Decoding bus messages into domain values. Whatever cannot be decoded is a
 * PoisonMessage: the runner dead-letters it with the reason and moves on.
 */

import type { z } from "zod";
import type { IncomingMessage } from "../adapters/bus/port.ts";
import type { AlertEvent, Report } from "../domain/alert.ts";
import { AlertUpdateMessage, EnrichedAlertMessage, LocationMessage, ReportMessage } from "../domain/schemas.ts";
import { PoisonMessage } from "./runner.ts";

function parseJson(message: IncomingMessage): unknown {
  if (message.value === null) throw new PoisonMessage("empty message");
  try {
    return JSON.parse(message.value);
  } catch {
    throw new PoisonMessage("not JSON");
  }
}

function decodeJson<T>(message: IncomingMessage, schema: z.ZodType<T>, what: string, json?: unknown): T {
  // In-process messages carry the object our own stage produced and validated.
  if (message.object !== undefined) return message.object as T;
  const parsed = schema.safeParse(json ?? parseJson(message));
  if (!parsed.success) {
    const why = parsed.error.issues.slice(0, 5).map((i) => `${i.path.join(".") || "message"} ${i.message}`);
    throw new PoisonMessage(`not ${what}: ${why.join("; ")}`);
  }
  return parsed.data;
}

export function decodeReport(message: IncomingMessage): Report {
  return decodeJson(message, ReportMessage, "a report") as Report;
}

/** An `enriched_alerts` message: a new alert, or a change to one. */
export function decodeAlertEvent(message: IncomingMessage): AlertEvent {
  if (message.object !== undefined) return message.object as AlertEvent;
  const json = parseJson(message);
  if ((json as { kind?: unknown })?.kind === "update") {
    return decodeJson(message, AlertUpdateMessage, "an alert update", json) as AlertEvent;
  }
  return decodeJson(message, EnrichedAlertMessage, "an enriched alert", json) as AlertEvent;
}

/** A `user_locations` message: where the user (the key) is now, or null to forget them. */
export type LocationUpdate = { userId: string; lat: number; lng: number; seenAt: number } | {
  userId: string;
  forget: true;
};

export function decodeLocationUpdate(message: IncomingMessage): LocationUpdate {
  if (!message.key) throw new PoisonMessage("no user id key");
  if (message.object !== undefined) return message.object as LocationUpdate;
  if (message.value === null) return { userId: message.key, forget: true };
  let json: unknown;
  try {
    json = JSON.parse(message.value);
  } catch {
    throw new PoisonMessage("not JSON");
  }
  const parsed = LocationMessage.safeParse(json);
  if (!parsed.success) throw new PoisonMessage(`not a location: ${parsed.error.issues[0].message}`);
  return { userId: message.key, ...parsed.data };
}
