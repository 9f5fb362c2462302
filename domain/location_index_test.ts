import assert from "node:assert/strict";
import { destination, distanceM } from "./geo.ts";
import { LocationIndex } from "./location_index.ts";
import { seededRandom } from "../tests/support/random.ts";

const TLV = { lat: 32.0853, lng: 34.7818 };
const NOW = Date.UTC(2026, 11, 4, 12);

Deno.test("499 m is notified, 501 m is not, in every direction", () => {
  const index = new LocationIndex();
  for (let bearing = 0; bearing < 360; bearing += 30) {
    const inside = destination(TLV, bearing, 499);
    const outside = destination(TLV, bearing, 501);
    index.upsert(`in-${bearing}`, inside.lat, inside.lng, NOW);
    index.upsert(`out-${bearing}`, outside.lat, outside.lng, NOW);
  }
  const found = index.near(TLV.lat, TLV.lng, 500, NOW - 1);
  assert.deepEqual(
    found.userIds.sort(),
    Array.from({ length: 12 }, (_, i) => `in-${i * 30}`).sort(),
  );
  assert.ok(found.distancesM.every((d) => d === 499));
});

Deno.test("the answer equals a brute-force scan, at the antimeridian and the poles too", () => {
  const random = seededRandom(42);
  for (
    const centre of [TLV, { lat: -16.5, lng: 179.999 }, {
      lat: 89.998,
      lng: 40,
    }, { lat: -89.999, lng: 0 }]
  ) {
    const index = new LocationIndex(16);
    const all: Array<{ id: string; lat: number; lng: number; seenAt: number }> = [];
    for (let i = 0; i < 3_000; i++) {
      const p = destination(
        centre,
        random() * 360,
        1_500 * Math.sqrt(random()),
      );
      const seenAt = NOW - random() * 600_000;
      all.push({ id: `u${i}`, ...p, seenAt });
      index.upsert(`u${i}`, p.lat, p.lng, seenAt);
    }
    for (let q = 0; q < 50; q++) {
      const at = destination(centre, random() * 360, 1_000 * random());
      const minSeenAt = NOW - 300_000;
      const expected = all
        .filter((u) => u.seenAt >= minSeenAt && distanceM(at, u) <= 500)
        .map((u) => u.id)
        .sort();
      assert.deepEqual(
        index.near(at.lat, at.lng, 500, minSeenAt).userIds.sort(),
        expected,
      );
    }
  }
});

Deno.test("stale users are not returned, and expire() forgets them", () => {
  const index = new LocationIndex();
  index.upsert("fresh", TLV.lat, TLV.lng, NOW);
  index.upsert("stale", TLV.lat, TLV.lng, NOW - 301_000);
  assert.deepEqual(index.near(TLV.lat, TLV.lng, 500, NOW - 300_000).userIds, [
    "fresh",
  ]);
  assert.equal(index.expire(NOW - 300_000), 1);
  assert.equal(index.size, 1);
  assert.equal(index.get("stale"), undefined);
});

Deno.test("moving, removing and re-adding users keeps the cell lists consistent", () => {
  const random = seededRandom(3);
  const index = new LocationIndex(4);
  const truth = new Map<string, { lat: number; lng: number }>();
  for (let step = 0; step < 20_000; step++) {
    const id = `u${Math.floor(random() * 500)}`;
    if (random() < 0.1) {
      assert.equal(index.remove(id), truth.delete(id));
    } else {
      const p = destination(TLV, random() * 360, 2_000 * random());
      index.upsert(id, p.lat, p.lng, NOW + step);
      truth.set(id, p);
    }
  }
  assert.equal(index.size, truth.size);
  for (let q = 0; q < 30; q++) {
    const at = destination(TLV, random() * 360, 1_500 * random());
    const expected = [...truth].filter(([, p]) => distanceM(at, p) <= 500).map((
      [id],
    ) => id).sort();
    assert.deepEqual(
      index.near(at.lat, at.lng, 500, 0).userIds.sort(),
      expected,
    );
  }
});

Deno.test("an older update never moves a user backwards", () => {
  const index = new LocationIndex();
  assert.ok(index.upsert("u", TLV.lat, TLV.lng, NOW));
  const away = destination(TLV, 90, 2_000);
  assert.equal(index.upsert("u", away.lat, away.lng, NOW - 1), false);
  const held = index.get("u")!;
  assert.ok(distanceM(held, TLV) < 0.001);
  assert.equal(held.seenAt, NOW);
});

Deno.test("forEachActive filters by time and box and stops when asked", () => {
  const index = new LocationIndex();
  index.upsert("a", 32.08, 34.78, NOW);
  index.upsert("b", 32.09, 34.79, NOW);
  index.upsert("c", 40, 40, NOW);
  index.upsert("old", 32.08, 34.78, NOW - 999_999);
  const seen: string[] = [];
  index.forEachActive(
    NOW - 1000,
    { south: 32, west: 34, north: 33, east: 35 },
    (u) => {
      seen.push(u.userId);
      return true;
    },
  );
  assert.deepEqual(seen.sort(), ["a", "b"]);
  let visits = 0;
  index.forEachActive(0, undefined, () => ++visits < 2);
  assert.equal(visits, 2);
});
