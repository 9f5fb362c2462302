import assert from "node:assert/strict";
import { MemoryBus } from "../adapters/bus/memory.ts";
import { TOPICS } from "../adapters/bus/port.ts";
import { MemoryLocationStore } from "../adapters/store/memory.ts";
import type { UserLocation } from "../adapters/store/port.ts";
import { LocationUpdates } from "../app/locations.ts";
import { LocationIndex } from "../domain/location_index.ts";
import { setLogLevel } from "../log.ts";
import { createLocationSinkStage } from "./location_sink.ts";

setLogLevel("error");

/** The embedded store behind a server that takes `writeBatch` updates a command, each command `ms` long. */
class SlowStore extends MemoryLocationStore {
  calls: Array<{ at: number; n: number }> = [];
  constructor(override readonly writeBatch: number, private readonly ms: number) {
    super(300_000);
  }
  override async upsertMany(locations: UserLocation[]): Promise<void> {
    assert.ok(locations.length <= this.writeBatch, `a call carried ${locations.length} > ${this.writeBatch}`);
    this.calls.push({ at: performance.now(), n: locations.length });
    await new Promise((r) => setTimeout(r, this.ms));
    await super.upsertMany(locations);
  }
}

Deno.test("location sink: writes in the store's batch size, rests as long as it wrote, keeps the latest per user", async () => {
  const bus = new MemoryBus(3);
  const store = new SlowStore(10, 20);
  const sink = createLocationSinkStage({ bus, locations: store });
  await sink.start();
  const updates = new LocationUpdates({ index: new LocationIndex(), bus });
  const t = Date.now();
  // 50 users, then the first 10 again, moved.
  await updates.record(Array.from({ length: 50 }, (_, i) => ({ userId: `u${i}`, lat: 32, lng: 34.7, seenAt: t })));
  await updates.record(
    Array.from({ length: 10 }, (_, i) => ({ userId: `u${i}`, lat: 32.01, lng: 34.7, seenAt: t + 1 })),
  );
  const deadline = Date.now() + 5_000;
  while (await bus.pending("alertcircle-location-sink", TOPICS.userLocations) > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 10));
  }
  await sink.stop();
  await sink.close();

  assert.equal(await store.countActive(t), 50);
  const u3 = await store.get("u3", t);
  assert.ok(u3 && Math.abs(u3.lat - 32.01) < 1e-6, `the later position won: ${u3?.lat}`);
  assert.ok(store.calls.length >= 5, `${store.calls.length} calls`);
  // Between the starts of two writes: the write (20 ms) and as long a rest.
  for (let i = 1; i < store.calls.length; i++) {
    const gap = store.calls[i].at - store.calls[i - 1].at;
    assert.ok(gap >= 38, `write ${i} began ${gap.toFixed(1)} ms after the one before`);
  }
});
