/**
 * A latitude-band grid: rows of equal latitude height, each split into as many columns
 * as keep cells roughly square at that latitude. A cell id is a plain integer, so it is
 * cheap as a Map key in the embedded index, indexable in any MongoDB-compatible server
 * (no geospatial operators needed) and usable as a Kafka partition key.
 *
 * "Who is within R metres" asks {@link LatBandGrid.covering} for every cell that can
 * hold such a point, then keeps the candidates whose exact great-circle distance is
 * ≤ R. The covering is exact per row (it follows the circle's width at each row), so it
 * stays tight in the city and correct across the antimeridian and over the poles.
 *
 * The ids are part of the stored data (the `cell` field in MongoDB): changing
 * `cellDeg` means re-indexing, so the grids in use are fixed constants below.
 */

import { EARTH_RADIUS_M } from "./geo.ts";

const DEG = Math.PI / 180;
/** Slack so that floating-point error at a band or column edge never drops a cell. */
const EDGE_EPS_DEG = 1e-9;

export class LatBandGrid {
  readonly rows: number;
  /** Columns in the widest (equatorial) row; the row stride in cell ids. */
  readonly maxCols: number;
  private readonly colsByRow: Int32Array;

  constructor(readonly cellDeg: number) {
    this.rows = Math.ceil(180 / cellDeg);
    this.maxCols = Math.ceil(360 / cellDeg);
    this.colsByRow = new Int32Array(this.rows);
    for (let r = 0; r < this.rows; r++) {
      const south = -90 + r * cellDeg;
      const north = Math.min(90, south + cellDeg);
      // Size columns by the band's widest latitude so no cell is wider than cellDeg there.
      const widest = south <= 0 && north >= 0 ? 0 : Math.min(Math.abs(south), Math.abs(north));
      this.colsByRow[r] = Math.max(
        1,
        Math.ceil(360 * Math.cos(widest * DEG) / cellDeg),
      );
    }
  }

  row(lat: number): number {
    const r = Math.floor((lat + 90) / this.cellDeg);
    return r < 0 ? 0 : r >= this.rows ? this.rows - 1 : r;
  }

  colsInRow(row: number): number {
    return this.colsByRow[row];
  }

  col(row: number, lng: number): number {
    const cols = this.colsByRow[row];
    const x = ((lng + 180) % 360 + 360) % 360;
    const c = Math.floor(x * cols / 360);
    return c >= cols ? cols - 1 : c;
  }

  cellOf(lat: number, lng: number): number {
    const r = this.row(lat);
    return r * this.maxCols + this.col(r, lng);
  }

  /** Every cell that may contain a point within `radiusM` of (lat, lng). */
  covering(lat: number, lng: number, radiusM: number): number[] {
    const out: number[] = [];
    const delta = radiusM / EARTH_RADIUS_M; // angular radius, radians
    if (delta >= Math.PI) {
      for (let r = 0; r < this.rows; r++) this.pushRow(out, r, 0, 360);
      return out;
    }
    const deltaDeg = delta / DEG;
    const lat0 = lat * DEG;
    const sinLat0 = Math.sin(lat0);
    const cosLat0 = Math.cos(lat0);
    const cosDelta = Math.cos(delta);
    const capSouth = Math.max(-90, lat - deltaDeg - EDGE_EPS_DEG);
    const capNorth = Math.min(90, lat + deltaDeg + EDGE_EPS_DEG);
    // Latitude where the cap is widest; past a pole inside the cap the width only grows.
    const ratio = sinLat0 / cosDelta;
    const widestLat = ratio >= 1 ? 90 : ratio <= -1 ? -90 : Math.asin(ratio) / DEG;
    const firstRow = this.row(capSouth);
    const lastRow = this.row(capNorth);
    for (let r = firstRow; r <= lastRow; r++) {
      const bandSouth = Math.max(capSouth, -90 + r * this.cellDeg);
      const bandNorth = Math.min(capNorth, -90 + (r + 1) * this.cellDeg);
      const at = Math.min(bandNorth, Math.max(bandSouth, widestLat)) * DEG;
      const cosAt = Math.cos(at);
      let halfWidthDeg = 180;
      if (cosAt > 1e-12 && cosLat0 > 1e-12) {
        const cosHalf = (cosDelta - Math.sin(at) * sinLat0) / (cosAt * cosLat0);
        if (cosHalf > -1) halfWidthDeg = Math.acos(Math.min(1, cosHalf)) / DEG;
      }
      this.pushRow(out, r, lng, halfWidthDeg + EDGE_EPS_DEG);
    }
    return out;
  }

  private pushRow(
    out: number[],
    r: number,
    lng: number,
    halfWidthDeg: number,
  ): void {
    const cols = this.colsByRow[r];
    const base = r * this.maxCols;
    const width = 360 / cols;
    const first = Math.floor((lng - halfWidthDeg + 180) / width);
    const last = Math.floor((lng + halfWidthDeg + 180) / width);
    if (halfWidthDeg >= 180 || last - first + 1 >= cols) {
      for (let c = 0; c < cols; c++) out.push(base + c);
      return;
    }
    for (let c = first; c <= last; c++) {
      out.push(base + ((c % cols) + cols) % cols);
    }
  }
}

/** Fine grid for proximity (~220 m rows): small enough that a 500 m query reads little more than its circle. */
export const PROXIMITY_GRID = new LatBandGrid(0.002);

/** Coarse grid (~5.5 km rows) for message keys: keeps one area's reports in order on one partition. */
export const AREA_GRID = new LatBandGrid(0.05);

/** The Kafka message key of an area: a coarse cell id as text. */
export function areaKey(lat: number, lng: number): string {
  return `a${AREA_GRID.cellOf(lat, lng)}`;
}
