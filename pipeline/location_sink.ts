/**
 * The location sink: `user_locations` → the store, written behind the hot path. The API
 * and the minute job only update the in-memory index and publish; this stage (one shared
 * group, so each update is written once) brings the system of record up to date in
 * bulk, keeping only each user's latest position within a batch. A slow store therefore
 * lags here, visibly, instead of slowing anyone's request or the minute job.
 * Used when the store is not the in-memory index itself (MongoDB).
 */

import type { Bus } from "../adapters/bus/port.ts";
import { TOPICS } from "../adapters/bus/port.ts";
import type { LocationStore, UserLocation } from "../adapters/store/port.ts";
import type { LocationUpdate } from "./messages.ts";
import { decodeLocationUpdates } from "./messages.ts";
import { Stage } from "./runner.ts";

export function createLocationSinkStage(deps: { bus: Bus; locations: LocationStore }): Stage<LocationUpdate[]> {
  return new Stage<LocationUpdate[]>({
    name: "location-sink",
    bus: deps.bus,
    groupId: "alertcircle-location-sink",
    topic: TOPICS.userLocations,
    fromBeginning: true,
    commit: "auto",
    decode: decodeLocationUpdates,
    async step(items) {
      // Last word per user in this batch wins: a move then a forget is a forget.
      const latest = new Map<string, LocationUpdate>();
      for (const { value } of items) for (const u of value) latest.set(u.userId, u);
      const upserts: UserLocation[] = [];
      for (const u of latest.values()) {
        if ("forget" in u) await deps.locations.remove(u.userId);
        else upserts.push(u);
      }
      await deps.locations.upsertMany(upserts);
    },
  });
}
