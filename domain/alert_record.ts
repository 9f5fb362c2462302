/**
 * An alert and its changes as kept for the long run: on `public_alerts` and in the
 * archive. The place and kind of a sighting, its times and how many were told; never
 * who was told or how far they were (that stays on `enriched_alerts`, which keeps only
 * what live alerts need), and not even the reporter's id.
 */

import type { AlertEvent, AlertUpdate, EnrichedAlert } from "./alert.ts";
import { isUpdate } from "./alert.ts";
import { areaKey } from "./grid.ts";

/** A new alert. */
export interface AlertRecord {
  kind: "alert";
  id: string;
  type: string;
  lat: number;
  lng: number;
  note?: string;
  reportedAt: string;
  enrichedAt: string;
  expiresAt: string;
  radiusM: number;
  notifiedCount: number;
  /** The coarse grid cell the alert is in. */
  area: string;
  source: string;
}

/** A change to an alert (a confirmation, or its early end). */
export interface AlertUpdateRecord {
  kind: "update";
  id: string;
  alertId: string;
  at: string;
  expiresAt: string;
  confirmedBy?: string;
  ended?: boolean;
  area: string;
}

export type AlertEventRecord = AlertRecord | AlertUpdateRecord;

export function toAlertRecord(e: AlertEvent): AlertEventRecord {
  return isUpdate(e) ? updateRecord(e) : alertRecord(e);
}

function updateRecord(u: AlertUpdate): AlertUpdateRecord {
  const r: AlertUpdateRecord = {
    kind: "update",
    id: u.id,
    alertId: u.alertId,
    at: u.at,
    expiresAt: u.expiresAt,
    area: areaKey(u.lat, u.lng),
  };
  if (u.confirmedBy) r.confirmedBy = u.confirmedBy;
  if (u.ended) r.ended = true;
  return r;
}

function alertRecord(a: EnrichedAlert): AlertRecord {
  const r: AlertRecord = {
    kind: "alert",
    id: a.id,
    type: a.type,
    lat: a.lat,
    lng: a.lng,
    reportedAt: a.reportedAt,
    enrichedAt: a.enrichedAt,
    expiresAt: a.expiresAt,
    radiusM: a.radiusM,
    notifiedCount: a.notifiedCount,
    area: areaKey(a.lat, a.lng),
    source: a.source,
  };
  if (a.note !== undefined) r.note = a.note;
  return r;
}
