/**
 * The standard load's city: 10 km × 10 km around central Tel Aviv, users and reports
 * spread uniformly over it. (The service's simulator spreads its users over a disc of
 * the same area, `discRadiusM`.)
 */

import { destination } from "../../domain/geo.ts";
import type { LatLng } from "../../domain/geo.ts";

const center = { lat: 32.0853, lng: 34.7818 };
const halfSideM = 5_000;
const south = destination(center, 180, halfSideM).lat;
const north = destination(center, 0, halfSideM).lat;
const west = destination(center, 270, halfSideM).lng;
const east = destination(center, 90, halfSideM).lng;

export const CITY = {
  center,
  sideM: 2 * halfSideM,
  bbox: { south, west, north, east },
  /** Radius of the disc with the square's area (100 km²). */
  discRadiusM: Math.round(Math.sqrt((2 * halfSideM) ** 2 / Math.PI)),
  /** A uniform point in the square (the box is small enough that uniform in degrees is uniform in area to 0.1%). */
  randomPoint(random: () => number = Math.random): LatLng {
    return { lat: south + (north - south) * random(), lng: west + (east - west) * random() };
  },
};
