/**
 * Where simulated user N is at time t: a smooth walk around a home point, at walking
 * speed, as a pure function of (seed, N, t). Any instance that wins the minute job's
 * lease computes the same positions without shared state, and a user never teleports:
 * between two minutes they move at most ~1.4 m/s × 60 s.
 */

import type { LatLng } from "./geo.ts";
import { destination } from "./geo.ts";

export interface SimulationArea {
  center: LatLng;
  spreadM: number;
}

/** Top walking speed of a simulated user, metres per second. */
export const WALK_SPEED_MPS = 1.4;

/** A hash → [0, 1) so each user gets stable, independent parameters. */
function unit(n: number, salt: number): number {
  let h = Math.imul(n ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(salt + 1, 0xc2b2ae35);
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b);
  h ^= h >>> 16;
  return (h >>> 0) / 4294967296;
}

export function simulatedUserId(n: number): string {
  return `sim-${String(n).padStart(5, "0")}`;
}

export function simulatedPosition(area: SimulationArea, n: number, tMs: number): LatLng {
  // Home spread uniformly over the disc (sqrt for uniform area density).
  const home = destination(area.center, unit(n, 1) * 360, area.spreadM * Math.sqrt(unit(n, 2)));
  // Loop size 150–600 m; each axis is a sine, so speed stays under WALK_SPEED_MPS.
  const amplitude = 150 + 450 * unit(n, 3);
  const omega = WALK_SPEED_MPS / amplitude / Math.SQRT2;
  const t = tMs / 1000;
  const east = amplitude * Math.sin(omega * t * (0.7 + 0.3 * unit(n, 4)) + 2 * Math.PI * unit(n, 5));
  const north = amplitude * Math.sin(omega * t * (0.7 + 0.3 * unit(n, 6)) + 2 * Math.PI * unit(n, 7));
  const bearing = (Math.atan2(east, north) * 180) / Math.PI;
  return destination(home, bearing, Math.hypot(east, north));
}
