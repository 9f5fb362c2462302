/**
 * Recording where users are. Enrichment asks an in-memory proximity index, so that is
 * updated first, in this process, before the call returns. Then:
 *
 * - embedded store: the index *is* the store; done (and with Kafka, published so other
 *   instances' indexes follow);
 * - MongoDB: the update is published on `user_locations`; every instance's index feed
 *   and the shared location sink (which writes the store in bulk) read it from there.
 *
 * So a location write costs one publish, whatever the database's speed.
 */

import type { Bus } from "../adapters/bus/port.ts";
import { jsonMessage, TOPICS } from "../adapters/bus/port.ts";
import type { OutgoingMessage } from "../adapters/bus/port.ts";
import type { LocationStore, UserLocation } from "../adapters/store/port.ts";
import type { LocationIndex } from "../domain/location_index.ts";
import { PACKED_KEY_PREFIX } from "../pipeline/messages.ts";

/** Updates per packed message: about 60 KB of JSON, well under Kafka's 1 MB default. */
const PACKED_SIZE = 1_000;

/**
 * One user's update travels keyed by the user (so a user's updates stay in order on one
 * partition); a batch — the minute job's — travels packed, PACKED_SIZE users a message.
 * Order across messages is not needed there: the index and the store both keep the
 * update with the newest `seenAt`.
 */
function toMessages(locations: UserLocation[]): OutgoingMessage[] {
  if (locations.length === 1) {
    const [l] = locations;
    // On the wire the key names the user; the value holds only where and when.
    return [jsonMessage(l.userId, l, { lat: l.lat, lng: l.lng, seenAt: l.seenAt })];
  }
  const messages: OutgoingMessage[] = [];
  for (let i = 0; i < locations.length; i += PACKED_SIZE) {
    const part = locations.slice(i, i + PACKED_SIZE);
    messages.push(
      jsonMessage(`${PACKED_KEY_PREFIX}${part[0].userId}`, part, {
        batch: part.map((l) => [l.userId, l.lat, l.lng, l.seenAt]),
      }),
    );
  }
  return messages;
}

export class LocationUpdates {
  updates = 0;

  constructor(
    private readonly options: {
      /** The store, when it is not itself the index (MongoDB); its writes then go through the bus. */
      store?: LocationStore;
      /** This instance's proximity index (for the embedded store: the store's own). */
      index: LocationIndex;
      /** Where updates are published, or undefined when nobody else needs them. */
      bus?: Bus;
    },
  ) {}

  async record(locations: UserLocation[]): Promise<void> {
    if (locations.length === 0) return;
    const { index, bus } = this.options;
    for (const l of locations) index.upsert(l.userId, l.lat, l.lng, l.seenAt);
    if (bus) {
      await bus.publish(TOPICS.userLocations, toMessages(locations));
    }
    this.updates += locations.length;
  }

  /** Forgets the user's location everywhere at once. */
  async forget(userId: string): Promise<boolean> {
    const held = this.options.index.remove(userId);
    const fromStore = await this.options.store?.remove(userId) ?? false;
    // A tombstone: every instance's index drops the user too, and the sink deletes again
    // in case an older update of theirs was still on its way to the store.
    await this.options.bus?.publish(TOPICS.userLocations, [{
      key: userId,
      value: null,
      object: { userId, forget: true },
    }]);
    return held || fromStore;
  }
}
