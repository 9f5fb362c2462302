/**
 * Recording where users are. The store is the system of record; when the proximity
 * index is a separate in-memory copy (real engines), every update is also published on
 * `user_locations` so each instance's index follows. With the embedded store the index
 * *is* the store and nothing is published.
 */

import type { Bus } from "../adapters/bus/port.ts";
import { TOPICS } from "../adapters/bus/port.ts";
import type { LocationStore, UserLocation } from "../adapters/store/port.ts";

export class LocationUpdates {
  updates = 0;

  constructor(
    private readonly store: LocationStore,
    /** Present when instances keep their own proximity index fed from the bus. */
    private readonly feed?: Bus,
  ) {}

  async record(locations: UserLocation[]): Promise<void> {
    if (locations.length === 0) return;
    await this.store.upsertMany(locations);
    if (this.feed) {
      await this.feed.publish(
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
    // A tombstone: every instance's index drops the user too.
    if (this.feed) await this.feed.publish(TOPICS.userLocations, [{ key: userId, value: null }]);
    return held;
  }
}
