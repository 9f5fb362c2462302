/**
 * Great-circle geometry on a spherical Earth. Everything that decides "is this user
 * within R metres" goes through here, so the embedded index, the MongoDB store and the
 * benchmarks all give the same answer to the last metre.
 */

/** IUGG mean Earth radius in metres: the sphere that best fits the ellipsoid. */
export const EARTH_RADIUS_M = 6_371_008.8;

const DEG = Math.PI / 180;

export interface LatLng {
  lat: number;
  lng: number;
}

/** Haversine distance in metres; well conditioned for the short distances we care about. */
export function distanceM(a: LatLng, b: LatLng): number {
  const dLat = (b.lat - a.lat) * DEG;
  const dLng = (b.lng - a.lng) * DEG;
  const s = Math.sin(dLat / 2) ** 2 +
    Math.cos(a.lat * DEG) * Math.cos(b.lat * DEG) * Math.sin(dLng / 2) ** 2;
  return 2 * EARTH_RADIUS_M * Math.asin(Math.min(1, Math.sqrt(s)));
}

/** The point reached by going `distance` metres from `from` on initial bearing `bearingDeg`. */
export function destination(
  from: LatLng,
  bearingDeg: number,
  distance: number,
): LatLng {
  const d = distance / EARTH_RADIUS_M;
  const b = bearingDeg * DEG;
  const lat1 = from.lat * DEG;
  const lng1 = from.lng * DEG;
  const lat2 = Math.asin(
    Math.sin(lat1) * Math.cos(d) + Math.cos(lat1) * Math.sin(d) * Math.cos(b),
  );
  const lng2 = lng1 +
    Math.atan2(
      Math.sin(b) * Math.sin(d) * Math.cos(lat1),
      Math.cos(d) - Math.sin(lat1) * Math.sin(lat2),
    );
  return { lat: lat2 / DEG, lng: normalizeLng(lng2 / DEG) };
}

/** Wraps a longitude into [-180, 180). */
export function normalizeLng(lng: number): number {
  const wrapped = ((lng + 180) % 360 + 360) % 360 - 180;
  return wrapped;
}

/**
 * Unit vector of a point on the sphere. Comparing squared chord lengths between unit
 * vectors is an exact great-circle test with no trigonometry per candidate, which is
 * what makes the hot proximity loop cheap.
 */
export function toUnitVector(
  lat: number,
  lng: number,
): [number, number, number] {
  const phi = lat * DEG;
  const lambda = lng * DEG;
  const c = Math.cos(phi);
  return [c * Math.cos(lambda), c * Math.sin(lambda), Math.sin(phi)];
}

/** Inverse of {@link toUnitVector}. */
export function fromUnitVector(x: number, y: number, z: number): LatLng {
  return {
    lat: Math.atan2(z, Math.hypot(x, y)) / DEG,
    lng: Math.atan2(y, x) / DEG,
  };
}

/** Squared chord length between two points `metres` apart on the great circle. */
export function chord2ForDistance(metres: number): number {
  const half = metres / EARTH_RADIUS_M / 2;
  return 4 * Math.sin(half) ** 2;
}

/** Great-circle metres for a squared chord length (inverse of {@link chord2ForDistance}). */
export function distanceForChord2(chord2: number): number {
  return 2 * EARTH_RADIUS_M * Math.asin(Math.min(1, Math.sqrt(chord2) / 2));
}

/** A latitude/longitude box; `west > east` means it crosses the antimeridian. */
export interface BBox {
  south: number;
  west: number;
  north: number;
  east: number;
}

export function bboxContains(box: BBox, p: LatLng): boolean {
  if (p.lat < box.south || p.lat > box.north) return false;
  return box.west <= box.east ? p.lng >= box.west && p.lng <= box.east : p.lng >= box.west || p.lng <= box.east;
}
