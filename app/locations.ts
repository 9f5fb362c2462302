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
import type { LocationStore, UserLocation } from "../adapters/store/port.ts";
import type { LocationIndex } from "../domain/location_index.ts";

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
      await bus.publish(
        TOPICS.userLocations,
        // On the wire the key names the user; the value holds only where and when.
        locations.map((l) => jsonMessage(l.userId, l, { lat: l.lat, lng: l.lng, seenAt: l.seenAt })),
      );
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
