/**
 * The location sink: `user_locations` → the store, written behind the hot path. The API
 * and the minute job only update the in-memory index and publish; this stage (one shared
 * group, so each update is written once) brings the system of record up to date in
 * bulk, keeping only each user's latest position within a batch. A slow store therefore
 * lags here, visibly, instead of slowing anyone's request or the minute job.
 * Used when the store is not the in-memory index itself (MongoDB).
 *
 * It also never takes more than about half of the store's time: after each write it
 * rests as long as the write took. On MongoDB a bulk write of hundreds of updates takes
 * milliseconds and the rest costs nothing; on a server that scans its collection for
 * every update (FerretDB 1.x) the sink would otherwise keep the server — and on a small
 * machine every core — busy without end, starving enrichment and the alert writes that
 * people do see.
 */

import type { Bus } from "../adapters/bus/port.ts";
import { TOPICS } from "../adapters/bus/port.ts";
import type { LocationStore, UserLocation } from "../adapters/store/port.ts";
import type { LocationUpdate } from "./messages.ts";
import { decodeLocationUpdates } from "./messages.ts";
import { sleep, Stage } from "./runner.ts";

/** Rest per unit of time spent writing: 1 → at most half of the time busy. */
const REST_PER_BUSY = 1;

export function createLocationSinkStage(deps: { bus: Bus; locations: LocationStore }): Stage<LocationUpdate[]> {
  return new Stage<LocationUpdate[]>({
    name: "location-sink",
    bus: deps.bus,
    groupId: "alertcircle-location-sink",
    topic: TOPICS.userLocations,
    fromBeginning: true,
    commit: "auto",
    decode: decodeLocationUpdates,
    async step(items, _batch, ctx) {
      // Last word per user in this batch wins: a move then a forget is a forget.
      const latest = new Map<string, LocationUpdate>();
      for (const { value } of items) for (const u of value) latest.set(u.userId, u);
      const forgets: string[] = [];
      const upserts: UserLocation[] = [];
      for (const u of latest.values()) {
        if ("forget" in u) forgets.push(u.userId);
        else upserts.push(u);
      }
      const paced = async (write: () => Promise<unknown>) => {
        // Stopping mid-batch leaves it uncommitted: it comes again, and every write is idempotent.
        if (ctx.signal.aborted) throw new Error("location sink stopped mid-batch");
        const started = performance.now();
        await write();
        await sleep((performance.now() - started) * REST_PER_BUSY, ctx.signal);
        // A long batch must not get this consumer thrown out of its group.
        await ctx.heartbeat().catch(() => {});
      };
      for (const userId of forgets) await paced(() => deps.locations.remove(userId));
      const n = Math.max(1, deps.locations.writeBatch);
      for (let i = 0; i < upserts.length; i += n) await paced(() => deps.locations.upsertMany(upserts.slice(i, i + n)));
    },
  });
}
