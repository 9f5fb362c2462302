/** Parsers for query parameters shared by several routes; each names the parameter it rejects. */

import type { BBox } from "../domain/geo.ts";
import type { FieldError } from "../domain/schemas.ts";

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: FieldError };

/** `bbox=south,west,north,east` in degrees; west > east crosses the antimeridian. */
export function parseBBox(raw: string | undefined): Parsed<BBox | undefined> {
  if (raw === undefined || raw === "") return { ok: true, value: undefined };
  const parts = raw.split(",").map((p) => Number(p));
  if (parts.length !== 4 || parts.some((p) => !Number.isFinite(p))) {
    return { ok: false, error: { field: "bbox", reason: "must be south,west,north,east in degrees" } };
  }
  const [south, west, north, east] = parts;
  if (south < -90 || north > 90 || south > north) {
    return { ok: false, error: { field: "bbox", reason: "latitudes must be within -90..90 with south ≤ north" } };
  }
  if (west < -180 || west > 180 || east < -180 || east > 180) {
    return { ok: false, error: { field: "bbox", reason: "longitudes must be within -180..180" } };
  }
  return { ok: true, value: { south, west, north, east } };
}

export function parseLimit(raw: string | undefined, fallback: number, max: number): Parsed<number> {
  if (raw === undefined || raw === "") return { ok: true, value: fallback };
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > max) {
    return { ok: false, error: { field: "limit", reason: `must be a whole number from 1 to ${max}` } };
  }
  return { ok: true, value: n };
}
