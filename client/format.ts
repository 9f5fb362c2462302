/** Small display helpers shared by the islands (browser and server rendering alike). */

import { ALERT_LABELS } from "../domain/alert.ts";
import type { AlertType } from "../domain/alert.ts";

export function label(type: string): string {
  return ALERT_LABELS[type as AlertType] ?? type;
}

/** A one-character badge per type, so markers read without relying on emoji fonts. */
export const TYPE_GLYPH: Record<AlertType, string> = {
  bylaw_officer: "B",
  parking_inspector: "P",
  tow_truck: "T",
  police: "★",
  other: "?",
};

export function ago(iso: string, now = Date.now()): string {
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 60) return `${s}s ago`;
  const m = Math.round(s / 60);
  return m < 60 ? `${m} min ago` : `${Math.round(m / 60)} h ago`;
}

export function metres(m: number): string {
  return m < 1000 ? `${Math.round(m)} m` : `${(m / 1000).toFixed(1)} km`;
}
