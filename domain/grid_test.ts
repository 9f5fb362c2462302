import assert from "node:assert/strict";
import { destination, distanceM } from "./geo.ts";
import { AREA_GRID, areaKey, LatBandGrid, PROXIMITY_GRID } from "./grid.ts";
import { seededRandom } from "../tests/support/random.ts";

/** Every point within the radius must fall in a covering cell. */
function assertCovers(
  grid: LatBandGrid,
  centre: { lat: number; lng: number },
  radiusM: number,
  random: () => number,
) {
  const cover = new Set(grid.covering(centre.lat, centre.lng, radiusM));
  for (let i = 0; i < 400; i++) {
    // Points on and just inside the circle are the ones a sloppy covering misses.
    const d = i % 4 === 0 ? radiusM : radiusM * Math.sqrt(random());
    const p = destination(centre, random() * 360, d * (1 - 1e-12));
    assert.ok(distanceM(centre, p) <= radiusM + 1e-3);
    assert.ok(
      cover.has(grid.cellOf(p.lat, p.lng)),
      `(${p.lat}, ${p.lng}) at ${distanceM(centre, p)} m from (${centre.lat}, ${centre.lng}) not covered`,
    );
  }
}

Deno.test("covering holds every point within the radius, anywhere on Earth", () => {
  const random = seededRandom(7);
  const centres = [
    { lat: 32.0853, lng: 34.7818 }, // Tel Aviv
    { lat: 0, lng: 179.9995 }, // on the antimeridian
    { lat: -16.5, lng: -179.9999 }, // Fiji, west side of it
    { lat: 89.9990, lng: 0 }, // circle contains the north pole
    { lat: -89.9999, lng: 123 }, // circle contains the south pole
    { lat: 89.99, lng: -170 }, // near but not over the pole
    { lat: 0, lng: 0 },
  ];
  for (let i = 0; i < 200; i++) {
    centres.push({ lat: random() * 180 - 90, lng: random() * 360 - 180 });
  }
  for (const centre of centres) {
    for (const r of [1, 150, 499, 500, 2_000]) {
      assertCovers(PROXIMITY_GRID, centre, r, random);
    }
  }
});

Deno.test("cell borders: points on both sides of a row and column edge are covered", () => {
  const random = seededRandom(11);
  const g = PROXIMITY_GRID;
  const row = g.row(32.0853);
  const edgeLat = -90 + row * g.cellDeg; // exactly on a row border
  const cols = g.colsInRow(row);
  const edgeLng = -180 + g.col(row, 34.78) * 360 / cols; // exactly on a column border
  assertCovers(g, { lat: edgeLat, lng: edgeLng }, 500, random);
  assertCovers(g, { lat: edgeLat + 1e-12, lng: edgeLng - 1e-12 }, 500, random);
});

Deno.test("a 500 m covering in a city reads little more than its circle", () => {
  const cells = PROXIMITY_GRID.covering(32.0853, 34.7818, 500);
  // Circle area / cell area ≈ 0.785 km² / 0.047 km² ≈ 17; the covering adds a rim.
  assert.ok(cells.length >= 17 && cells.length <= 40, `${cells.length} cells`);
  assert.equal(new Set(cells).size, cells.length, "no duplicates");
});

Deno.test("whole-Earth radius covers every cell once", () => {
  const g = new LatBandGrid(10);
  const all = g.covering(0, 0, 30_000_000);
  let total = 0;
  for (let r = 0; r < g.rows; r++) total += g.colsInRow(r);
  assert.equal(all.length, total);
  assert.equal(new Set(all).size, total);
});

Deno.test("cell ids are stable, integral and distinct per cell", () => {
  assert.ok(Number.isSafeInteger(PROXIMITY_GRID.cellOf(89.9999, 179.9999)));
  assert.equal(
    PROXIMITY_GRID.cellOf(32.0853, 34.7818),
    PROXIMITY_GRID.cellOf(32.0853, 34.7818),
  );
  assert.notEqual(
    PROXIMITY_GRID.cellOf(32.0853, 34.7818),
    PROXIMITY_GRID.cellOf(32.0953, 34.7818),
  );
  assert.equal(PROXIMITY_GRID.cellOf(10, 180), PROXIMITY_GRID.cellOf(10, -180));
  assert.equal(
    areaKey(32.0853, 34.7818),
    `a${AREA_GRID.cellOf(32.0853, 34.7818)}`,
  );
});
