/**
 * Recording where users are. The store is the system of record. The proximity index
 * that enrichment asks is in memory: with the embedded store it *is* the store; with
 * MongoDB it is a separate copy, updated here directly. With Kafka every update is also
 * published on `user_locations`, so every instance's index follows every write.
 */

import type { Bus } from "../adapters/bus/port.ts";
import { TOPICS } from "../adapters/bus/port.ts";
import type { LocationStore, UserLocation } from "../adapters/store/port.ts";
import type { LocationIndex } from "../domain/location_index.ts";

export class LocationUpdates {
  updates = 0;

  constructor(
    private readonly store: LocationStore,
    private readonly options: {
      /** This instance's proximity index, when it is not the store itself. */
      index?: LocationIndex;
      /** The bus to tell the other instances on (Kafka). */
      feed?: Bus;
    } = {},
  ) {}

  async record(locations: UserLocation[]): Promise<void> {
    if (locations.length === 0) return;
    await this.store.upsertMany(locations);
    const { index, feed } = this.options;
    if (index) { for (const l of locations) index.upsert(l.userId, l.lat, l.lng, l.seenAt); }
    if (feed) {
      await feed.publish(
        TOPICS.userLocations,
        locations.map((l) => ({
          key: l.userId,
          value: JSON.stringify({ lat: l.lat, lng: l.lng, seenAt: l.seenAt }),
        })),
      );
    }
    this.updates += locations.length;
  }

  /** Forgets the user's location everywhere at once. */
  async forget(userId: string): Promise<boolean> {
    const held = await this.store.remove(userId);
    this.options.index?.remove(userId);
    // A tombstone: every instance's index drops the user too.
    await this.options.feed?.publish(TOPICS.userLocations, [{ key: userId, value: null }]);
    return held;
  }
}
