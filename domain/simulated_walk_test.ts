import assert from "node:assert/strict";
import { distanceM } from "./geo.ts";
import { simulatedPosition, simulatedUserId, WALK_SPEED_MPS } from "./simulated_walk.ts";

const area = { center: { lat: 32.0853, lng: 34.7818 }, spreadM: 3_000 };
const t0 = Date.UTC(2026, 11, 4, 12);

Deno.test("simulated users walk: never faster than walking speed, never teleporting", () => {
  for (let n = 0; n < 200; n++) {
    let last = simulatedPosition(area, n, t0);
    for (let minute = 1; minute <= 60; minute++) {
      const p = simulatedPosition(area, n, t0 + minute * 60_000);
      assert.ok(distanceM(last, p) <= WALK_SPEED_MPS * 60 + 1e-6, `user ${n} minute ${minute}`);
      last = p;
    }
  }
});

Deno.test("simulated users stay in the city and actually move", () => {
  let moved = 0;
  for (let n = 0; n < 500; n++) {
    const p = simulatedPosition(area, n, t0);
    assert.ok(distanceM(area.center, p) <= area.spreadM + 900);
    if (distanceM(p, simulatedPosition(area, n, t0 + 60_000)) > 5) moved++;
  }
  assert.ok(moved > 450, `${moved} of 500 moved`);
});

Deno.test("positions are a pure function of user and time", () => {
  assert.deepEqual(simulatedPosition(area, 7, t0), simulatedPosition(area, 7, t0));
  assert.equal(simulatedUserId(7), "sim-00007");
});
