/**
 * The live stage: `enriched_alerts` → this instance's SSE clients. Every instance reads
 * every alert (a consumer group of its own, starting at the newest message), because
 * each one holds different clients. The instance that enriched an alert has already
 * given it to its own clients (see deliverLocally); for it this stage is the backstop.
 */

import type { Bus } from "../adapters/bus/port.ts";
import { TOPICS } from "../adapters/bus/port.ts";
import type { AlertEvent } from "../domain/alert.ts";
import { isUpdate } from "../domain/alert.ts";
import type { AlertTracker } from "./alert_tracker.ts";
import type { LiveHub } from "./live_hub.ts";
import { decodeAlertEvent } from "./messages.ts";
import { commitPastSkipped, Stage } from "./runner.ts";

/**
 * One alert or change to this instance's clients. Idempotent: the tracker applies an
 * event once and the hub drops an id it has pushed, so the enrich stage can deliver
 * what it just made to its own clients at once and the same event arriving later
 * through `enriched_alerts` changes nothing.
 */
export function deliverLocally(deps: { hub: LiveHub; tracker: AlertTracker }, value: AlertEvent, t: number): void {
  // Every instance tracks every alert, so its enrichment can spot repeats.
  const state = deps.tracker.apply(value);
  if (isUpdate(value)) {
    if (state) deps.hub.publishChange(state, value);
  } else if (Date.parse(value.expiresAt) > t) {
    // After an outage the backlog may hold alerts that have already expired: telling
    // people about those now would be wrong, so they go to the store and archive only.
    deps.hub.publish(value);
  }
}

export function createLiveStage(deps: {
  bus: Bus;
  hub: LiveHub;
  tracker: AlertTracker;
  instanceId: string;
  now?: () => number;
}): Stage<AlertEvent> {
  const now = deps.now ?? Date.now;
  return new Stage<AlertEvent>({
    name: "live",
    bus: deps.bus,
    groupId: `alertcircle-live-${deps.instanceId}`,
    topic: TOPICS.enrichedAlerts,
    fromBeginning: false,
    commit: "auto",
    onSkipped: commitPastSkipped("live"),
    // Push as soon as enrichment has produced, not when its transaction commits: if that
    // transaction aborts, the retry yields the same alert id and the hub drops the repeat.
    readUncommitted: true,
    decode: decodeAlertEvent,
    step(items) {
      const t = now();
      for (const { value } of items) deliverLocally(deps, value, t);
      return Promise.resolve();
    },
  });
}
