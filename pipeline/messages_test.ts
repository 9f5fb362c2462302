import assert from "node:assert/strict";
import type { Bus, IncomingMessage, OutgoingMessage } from "../adapters/bus/port.ts";
import { TOPICS } from "../adapters/bus/port.ts";
import { LocationUpdates } from "../app/locations.ts";
import { LocationIndex } from "../domain/location_index.ts";
import { decodeLocationUpdates, PACKED_KEY_PREFIX } from "./messages.ts";
import { PoisonMessage } from "./runner.ts";

/** What reaches a consumer over Kafka: the key and the JSON text, not the producer's object. */
function overTheWire(m: OutgoingMessage, offset: number): IncomingMessage {
  return {
    topic: TOPICS.userLocations,
    partition: 0,
    offset,
    key: m.key,
    value: m.value,
    headers: {},
    timestamp: Date.now(),
  };
}

async function published(locations: Parameters<LocationUpdates["record"]>[0]): Promise<OutgoingMessage[]> {
  const sent: OutgoingMessage[] = [];
  const bus = {
    publish(topic: string, messages: OutgoingMessage[]) {
      assert.equal(topic, TOPICS.userLocations);
      sent.push(...messages);
      return Promise.resolve();
    },
  } as unknown as Bus;
  await new LocationUpdates({ index: new LocationIndex(), bus }).record(locations);
  return sent;
}

Deno.test("locations: one user's update travels keyed by the user; a batch travels packed and arrives whole", async () => {
  const [single] = await published([{ userId: "u-1", lat: 32.08, lng: 34.78, seenAt: 1000 }]);
  assert.equal(single.key, "u-1");
  assert.deepEqual(decodeLocationUpdates(overTheWire(single, 0)), [
    { userId: "u-1", lat: 32.08, lng: 34.78, seenAt: 1000 },
  ]);

  const batch = Array.from({ length: 2_500 }, (_, i) => ({
    userId: `sim-${i}`,
    lat: 32 + i * 1e-5,
    lng: 34.7 + i * 1e-5,
    seenAt: 2000 + i,
  }));
  const messages = await published(batch);
  assert.equal(messages.length, 3, "1,000 updates a message");
  assert.ok(messages.every((m) => m.key?.startsWith(PACKED_KEY_PREFIX)));
  const decoded = messages.flatMap((m, i) => decodeLocationUpdates(overTheWire(m, i)));
  assert.deepEqual(decoded, batch);
  // The embedded bus hands over the producer's own objects: the same updates.
  assert.deepEqual(
    messages.flatMap((m, i) => decodeLocationUpdates({ ...overTheWire(m, i), object: m.object })),
    batch,
  );
});

Deno.test("locations: a null value forgets the user; malformed packed messages are poison, naming the entry", () => {
  const base = overTheWire({ key: "u-9", value: null }, 0);
  assert.deepEqual(decodeLocationUpdates(base), [{ userId: "u-9", forget: true }]);
  const packed = (value: string) => ({ ...base, key: `${PACKED_KEY_PREFIX}x`, value });
  const bad: Array<[string, RegExp]> = [
    ["{", /not JSON/],
    ['{"batch": 3}', /without a batch array/],
    ['{"batch": [["a", 32, 34, 1], ["b", 91, 34, 1]]}', /batch\[1\]: not a location/],
    ['{"batch": [["", 32, 34, 1]]}', /batch\[0\]/],
    ['{"batch": [["a", 32, 34]]}', /batch\[0\]/],
  ];
  for (const [value, reason] of bad) {
    assert.throws(
      () => decodeLocationUpdates(packed(value)),
      (e: unknown) => e instanceof PoisonMessage && reason.test(e.message),
    );
  }
  assert.throws(() => decodeLocationUpdates({ ...base, value: '{"lat": "x"}' }), PoisonMessage);
});
