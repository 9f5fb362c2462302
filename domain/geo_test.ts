import assert from "node:assert/strict";
import {
  chord2ForDistance,
  destination,
  distanceForChord2,
  distanceM,
  fromUnitVector,
  normalizeLng,
  toUnitVector,
} from "./geo.ts";

// Published great-circle distances. The Nashville–Los Angeles pair is the classic
// haversine worked example: 2887.26 km at R = 6372.8 km, so 2886.45 km on the IUGG
// mean sphere we use; the others are the commonly quoted great-circle figures.
const cityPairs: Array<
  [string, number, number, number, number, number, number]
> = [
  [
    "Nashville BNA – Los Angeles LAX",
    36.12,
    -86.67,
    33.94,
    -118.40,
    2_887_260 * 6_371_008.8 / 6_372_800,
    5,
  ],
  ["London – Paris", 51.5074, -0.1278, 48.8566, 2.3522, 343_560, 100],
  ["Tel Aviv – Jerusalem", 32.0853, 34.7818, 31.7683, 35.2137, 53_900, 100],
  [
    "Sydney – Auckland (near the antimeridian)",
    -33.8688,
    151.2093,
    -36.8485,
    174.7633,
    2_156_000,
    1_000,
  ],
];

Deno.test("distanceM matches published city-pair distances", () => {
  for (
    const [name, lat1, lng1, lat2, lng2, expected, toleranceM] of cityPairs
  ) {
    const d = distanceM({ lat: lat1, lng: lng1 }, { lat: lat2, lng: lng2 });
    assert.ok(
      Math.abs(d - expected) <= toleranceM,
      `${name}: ${d} vs ${expected}`,
    );
  }
});

Deno.test("distanceM agrees with the spherical law of cosines (an independent formula)", () => {
  const rad = Math.PI / 180;
  const byCosines = (lat1: number, lng1: number, lat2: number, lng2: number) =>
    6_371_008.8 * Math.acos(
      Math.sin(lat1 * rad) * Math.sin(lat2 * rad) +
        Math.cos(lat1 * rad) * Math.cos(lat2 * rad) *
          Math.cos((lng2 - lng1) * rad),
    );
  for (const [name, lat1, lng1, lat2, lng2] of cityPairs) {
    const d = distanceM({ lat: lat1, lng: lng1 }, { lat: lat2, lng: lng2 });
    assert.ok(Math.abs(d - byCosines(lat1, lng1, lat2, lng2)) < 0.01, name);
  }
});

Deno.test("distanceM is exact for quarter and half great circles", () => {
  const quarter = Math.PI / 2 * 6_371_008.8;
  assert.ok(
    Math.abs(distanceM({ lat: 0, lng: 0 }, { lat: 0, lng: 90 }) - quarter) <
      1e-6,
  );
  assert.ok(
    Math.abs(distanceM({ lat: 0, lng: 0 }, { lat: 90, lng: 0 }) - quarter) <
      1e-6,
  );
  assert.ok(
    Math.abs(
      distanceM({ lat: 0, lng: 0 }, { lat: 0, lng: 180 }) - 2 * quarter,
    ) < 1e-6,
  );
});

Deno.test("destination lands at the requested distance in every direction", () => {
  const origins = [
    { lat: 32.0853, lng: 34.7818 },
    { lat: 0, lng: 179.9999 },
    { lat: 89.999, lng: 10 },
    { lat: -89.9995, lng: -45 },
  ];
  for (const o of origins) {
    for (let bearing = 0; bearing < 360; bearing += 15) {
      for (const metres of [1, 499, 500, 501, 5_000]) {
        const p = destination(o, bearing, metres);
        // Sub-millimetre everywhere; the formulas lose a little precision right at a pole.
        assert.ok(
          Math.abs(distanceM(o, p) - metres) < 1e-3,
          `${bearing}° ${metres} m`,
        );
      }
    }
  }
});

Deno.test("crossing the antimeridian is a short hop, not a world tour", () => {
  const east = { lat: 10, lng: 179.999 };
  const west = { lat: 10, lng: -179.999 };
  assert.ok(distanceM(east, west) < 250);
  assert.equal(normalizeLng(180), -180);
  assert.equal(normalizeLng(-190), 170);
});

Deno.test("chord thresholds agree with the haversine distance", () => {
  for (const metres of [1, 250, 500, 10_000, 1_000_000]) {
    const c2 = chord2ForDistance(metres);
    assert.ok(Math.abs(distanceForChord2(c2) - metres) < 1e-6);
  }
  const a = toUnitVector(32.0853, 34.7818);
  const b = toUnitVector(32.0893, 34.7858);
  const c2 = (a[0] - b[0]) ** 2 + (a[1] - b[1]) ** 2 + (a[2] - b[2]) ** 2;
  const d = distanceM({ lat: 32.0853, lng: 34.7818 }, {
    lat: 32.0893,
    lng: 34.7858,
  });
  assert.ok(Math.abs(distanceForChord2(c2) - d) < 1e-6);
  const back = fromUnitVector(...a);
  assert.ok(
    Math.abs(back.lat - 32.0853) < 1e-12 &&
      Math.abs(back.lng - 34.7818) < 1e-12,
  );
});
