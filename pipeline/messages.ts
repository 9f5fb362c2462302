/**
 * Decoding bus messages into domain values. Whatever cannot be decoded is a
 * PoisonMessage: the runner dead-letters it with the reason and moves on.
 */

import type { z } from "zod";
import type { IncomingMessage } from "../adapters/bus/port.ts";
import type { AlertEvent, Report } from "../domain/alert.ts";
import type { AlertEventRecord } from "../domain/alert_record.ts";
import {
  AlertEventRecordMessage,
  AlertUpdateMessage,
  EnrichedAlertMessage,
  LocationMessage,
  ReportMessage,
} from "../domain/schemas.ts";
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

/** A `public_alerts` message: an alert or a change as the archive keeps it. */
export function decodeAlertEventRecord(message: IncomingMessage): AlertEventRecord {
  return decodeJson(message, AlertEventRecordMessage, "an alert record") as AlertEventRecord;
}

/** A `user_locations` message: where the user (the key) is now, or null to forget them. */
export type LocationUpdate = { userId: string; lat: number; lng: number; seenAt: number } | {
  userId: string;
  forget: true;
};

/**
 * Keys of packed messages start with this; user ids never do (they are UUIDs or
 * `sim-…`). A packed message carries many users' updates as
 * `{"batch": [[userId, lat, lng, seenAt], …]}`: the minute job publishes 100,000 users a
 * minute, and one Kafka message per user cost seconds of producer and consumer work
 * where a hundred packed ones cost a few milliseconds.
 */
export const PACKED_KEY_PREFIX = "batch:";

/** Every update a `user_locations` message carries: one, or a packed batch. */
export function decodeLocationUpdates(message: IncomingMessage): LocationUpdate[] {
  if (!message.key) throw new PoisonMessage("no user id key");
  if (message.object !== undefined) {
    return Array.isArray(message.object) ? message.object as LocationUpdate[] : [message.object as LocationUpdate];
  }
  if (message.value === null) return [{ userId: message.key, forget: true }];
  let json: unknown;
  try {
    json = JSON.parse(message.value);
  } catch {
    throw new PoisonMessage("not JSON");
  }
  if (message.key.startsWith(PACKED_KEY_PREFIX)) return decodePacked(json);
  const parsed = LocationMessage.safeParse(json);
  if (!parsed.success) throw new PoisonMessage(`not a location: ${parsed.error.issues[0].message}`);
  return [{ userId: message.key, ...parsed.data }];
}

function decodePacked(json: unknown): LocationUpdate[] {
  const batch = (json as { batch?: unknown } | null)?.batch;
  if (!Array.isArray(batch)) throw new PoisonMessage("a packed location message without a batch array");
  return batch.map((entry, i) => {
    if (!Array.isArray(entry) || entry.length !== 4 || typeof entry[0] !== "string" || entry[0] === "") {
      throw new PoisonMessage(`batch[${i}]: not [userId, lat, lng, seenAt]`);
    }
    const parsed = LocationMessage.safeParse({ lat: entry[1], lng: entry[2], seenAt: entry[3] });
    if (!parsed.success) throw new PoisonMessage(`batch[${i}]: not a location: ${parsed.error.issues[0].message}`);
    return { userId: entry[0], ...parsed.data };
  });
}
