/**
 * What people can do to a live alert besides reporting it: say it is gone. Only someone
 * near it (their current location within the alert's radius) may vote, once per alert;
 * when GONE_VOTES_TO_END have, the alert ends now for everyone — the end travels on
 * `enriched_alerts` like any change, so every instance's map drops it.
 */

import type { Bus } from "../adapters/bus/port.ts";
import type { AlertStore, LocationStore } from "../adapters/store/port.ts";
import type { AlertUpdate } from "../domain/alert.ts";
import { distanceM } from "../domain/geo.ts";
import { alertOutputs } from "../pipeline/alert_outputs.ts";
import type { AlertTracker } from "../pipeline/alert_tracker.ts";

export type GoneVote =
  | { outcome: "not_found" }
  | { outcome: "too_far"; distanceM?: number; radiusM: number }
  | { outcome: "counted" | "already_voted"; votes: number; needed: number; ended: boolean };

export class AlertActions {
  constructor(
    private readonly deps: {
      bus: Bus;
      alerts: AlertStore;
      proximity: LocationStore;
      tracker: AlertTracker;
      votesToEnd: number;
    },
  ) {}

  async voteGone(alertId: string, userId: string, now = Date.now()): Promise<GoneVote> {
    const alert = await this.deps.alerts.get(alertId, now);
    if (!alert) return { outcome: "not_found" };
    const here = await this.deps.proximity.get(userId, now);
    const d = here ? distanceM(here, alert) : undefined;
    if (d === undefined || d > alert.radiusM) return { outcome: "too_far", distanceM: d, radiusM: alert.radiusM };
    const vote = await this.deps.alerts.voteGone(alertId, userId, now);
    if (!vote) return { outcome: "not_found" };
    const needed = this.deps.votesToEnd;
    const ended = vote.votes >= needed;
    if (ended) {
      const at = new Date(now).toISOString();
      // The same id whoever casts the deciding vote: ending twice changes nothing.
      const update: AlertUpdate = {
        kind: "update",
        id: `${alertId}:ended`,
        alertId,
        lat: alert.lat,
        lng: alert.lng,
        at,
        expiresAt: at,
        ended: true,
      };
      // enriched_alerts first: a retry after a failure in between repeats the change only
      // where repeats are dropped by id (store, live push), not in the archive.
      for (const out of alertOutputs([update])) await this.deps.bus.publish(out.topic, out.messages);
    }
    return { outcome: vote.counted ? "counted" : "already_voted", votes: vote.votes, needed, ended };
  }
}
