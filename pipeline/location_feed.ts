/**
 * Keeps this instance's in-memory proximity index current from `user_locations`, the
 * topic every instance's location writes are published on (keyed by user; a null value
 * forgets the user). A group of its own per process, reading from the oldest message:
 * the topic keeps only LOCATION_TTL_S of data, which is exactly what a fresh index
 * needs, and no location history lives in Kafka.
 */

import type { Bus } from "../adapters/bus/port.ts";
import { TOPICS } from "../adapters/bus/port.ts";
import type { LocationIndex } from "../domain/location_index.ts";
import type { LocationUpdate } from "./messages.ts";
import { decodeLocationUpdates } from "./messages.ts";
import { Stage } from "./runner.ts";

export function createLocationFeedStage(
  deps: { bus: Bus; index: LocationIndex; instanceId: string },
): Stage<LocationUpdate[]> {
  return new Stage<LocationUpdate[]>({
    name: "location-feed",
    bus: deps.bus,
    groupId: `alertcircle-locations-${deps.instanceId}`,
    topic: TOPICS.userLocations,
    fromBeginning: true,
    commit: "auto",
    decode: decodeLocationUpdates,
    step(items) {
      for (const { value } of items) {
        for (const u of value) {
          if ("forget" in u) deps.index.remove(u.userId);
          else deps.index.upsert(u.userId, u.lat, u.lng, u.seenAt);
        }
      }
      return Promise.resolve();
    },
  });
}
