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

/** A report plus who was notified: the message on `enriched_alerts`. */
export interface EnrichedAlert extends Report {
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
  };
  if (a.note !== undefined) out.note = a.note;
  return out;
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
