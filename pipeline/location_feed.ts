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
import { LocationMessage } from "../domain/schemas.ts";
import { PoisonMessage, Stage } from "./runner.ts";

type Update = { userId: string; lat: number; lng: number; seenAt: number } | { userId: string; forget: true };

export function createLocationFeedStage(deps: { bus: Bus; index: LocationIndex; instanceId: string }): Stage<Update> {
  return new Stage<Update>({
    name: "location-feed",
    bus: deps.bus,
    groupId: `alertcircle-locations-${deps.instanceId}`,
    topic: TOPICS.userLocations,
    fromBeginning: true,
    commit: "auto",
    decode(message) {
      if (!message.key) throw new PoisonMessage("no user id key");
      if (message.value === null) return { userId: message.key, forget: true };
      let json: unknown;
      try {
        json = JSON.parse(message.value);
      } catch {
        throw new PoisonMessage("not JSON");
      }
      const parsed = LocationMessage.safeParse(json);
      if (!parsed.success) throw new PoisonMessage(`not a location: ${parsed.error.issues[0].message}`);
      return { userId: message.key, ...parsed.data };
    },
    step(items) {
      for (const { value } of items) {
        if ("forget" in value) deps.index.remove(value.userId);
        else deps.index.upsert(value.userId, value.lat, value.lng, value.seenAt);
      }
      return Promise.resolve();
    },
  });
}
