/**
 * What flows through the pipeline: a report as the API accepted it (`raw_alerts`), the
 * same report enriched with who was told (`enriched_alerts`), and the shapes the store,
 * the archive and the dashboard keep of it. No I/O here.
 */

export const ALERT_TYPES = [
  "bylaw_officer",
  "parking_inspector",
  "tow_truck",
  "police",
  "other",
] as const;

export type AlertType = typeof ALERT_TYPES[number];

/** Human labels for the dashboard and logs. */
export const ALERT_LABELS: Record<AlertType, string> = {
  bylaw_officer: "Bylaw officer",
  parking_inspector: "Parking inspector",
  tow_truck: "Tow truck",
  police: "Police",
  other: "Other",
};

/** A sighting as accepted by the API: the message on `raw_alerts`. */
export interface Report {
  /** UUIDv7 given by the API: unique, and sortable by the time it was accepted. */
  id: string;
  type: AlertType;
  lat: number;
  lng: number;
  note?: string;
  reporterId: string;
  /** ISO-8601 time the API accepted it. */
  reportedAt: string;
  /** "api" for people, "simulator" for the demo's generated sightings. */
  source: "api" | "simulator";
}

/** A report plus who was notified: a new alert on `enriched_alerts`. */
export interface EnrichedAlert extends Report {
  kind?: "alert";
  radiusM: number;
  /** Users told about it, nearest first. Never leaves the server except to each user. */
  notifiedUserIds: string[];
  /** Whole metres from each notified user, parallel to `notifiedUserIds`. */
  distancesM: number[];
  notifiedCount: number;
  /** ISO-8601 time enrichment finished. */
  enrichedAt: string;
  /** When the alert stops being live (reportedAt + ALERT_TTL_S). */
  expiresAt: string;
}

/**
 * A change to a live alert, on `enriched_alerts` after the alert itself (same key, same
 * partition, so always in order): another report confirmed it (and extended its life),
 * or enough people nearby said it is gone (it ends now).
 */
export interface AlertUpdate {
  kind: "update";
  /** Unique per update (the confirming report's id, or "<alertId>:ended"): a repeat changes nothing. */
  id: string;
  alertId: string;
  /** The alert's position, so the update is keyed and archived like the alert. */
  lat: number;
  lng: number;
  /** ISO-8601 time of the change. */
  at: string;
  /** The report that confirmed the alert, for a confirmation. */
  confirmedBy?: string;
  /** The alert's expiry after this change (later for a confirmation, `at` when it ended). */
  expiresAt: string;
  ended?: boolean;
}

/** What flows on `enriched_alerts`: new alerts, and changes to them. */
export type AlertEvent = EnrichedAlert | AlertUpdate;

export function isUpdate(e: AlertEvent): e is AlertUpdate {
  return e.kind === "update";
}

/** An alert as the map and the public API show it: no user ids. */
export interface PublicAlert {
  id: string;
  type: AlertType;
  lat: number;
  lng: number;
  note?: string;
  reportedAt: string;
  expiresAt: string;
  radiusM: number;
  notifiedCount: number;
  /** Further reports of the same sighting that joined this alert. */
  confirmations: number;
  /** Set when people nearby voted it gone before it expired. */
  endedAt?: string;
}

/** One entry of a user's notification feed. */
export interface Notification {
  alert: PublicAlert;
  /** How far the user was from the sighting when told, in whole metres. */
  distanceM: number;
}

export function toPublicAlert(a: EnrichedAlert | PublicAlert): PublicAlert {
  const out: PublicAlert = {
    id: a.id,
    type: a.type,
    lat: a.lat,
    lng: a.lng,
    reportedAt: a.reportedAt,
    expiresAt: a.expiresAt,
    radiusM: a.radiusM,
    notifiedCount: a.notifiedCount,
    confirmations: "confirmations" in a ? a.confirmations : 0,
  };
  if (a.note !== undefined) out.note = a.note;
  if ("endedAt" in a && a.endedAt !== undefined) out.endedAt = a.endedAt;
  return out;
}

/** The alert after an update: confirmations counted, expiry moved, or ended. */
export function applyUpdate(a: PublicAlert, u: AlertUpdate): PublicAlert {
  if (a.endedAt !== undefined) return a;
  if (u.ended) return { ...a, expiresAt: u.at, endedAt: u.at };
  return {
    ...a,
    confirmations: a.confirmations + 1,
    expiresAt: u.expiresAt > a.expiresAt ? u.expiresAt : a.expiresAt,
  };
}

/** The notification a given user got from an alert, or undefined if they were not told. */
export function notificationFor(
  alert: EnrichedAlert,
  userId: string,
): Notification | undefined {
  const i = alert.notifiedUserIds.indexOf(userId);
  if (i < 0) return undefined;
  return { alert: toPublicAlert(alert), distanceM: alert.distancesM[i] };
}
