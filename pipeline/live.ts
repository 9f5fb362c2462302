/**
 * The live stage: `enriched_alerts` → this instance's SSE clients. Every instance reads
 * every alert (a consumer group of its own, starting at the newest message), because
 * each one holds different clients.
 */

import type { Bus } from "../adapters/bus/port.ts";
import { TOPICS } from "../adapters/bus/port.ts";
import type { EnrichedAlert } from "../domain/alert.ts";
import type { LiveHub } from "./live_hub.ts";
import { decodeEnrichedAlert } from "./messages.ts";
import { Stage } from "./runner.ts";

export function createLiveStage(deps: {
  bus: Bus;
  hub: LiveHub;
  instanceId: string;
  now?: () => number;
}): Stage<EnrichedAlert> {
  const now = deps.now ?? Date.now;
  return new Stage<EnrichedAlert>({
    name: "live",
    bus: deps.bus,
    groupId: `alertcircle-live-${deps.instanceId}`,
    topic: TOPICS.enrichedAlerts,
    fromBeginning: false,
    commit: "auto",
    // Push as soon as enrichment has produced, not when its transaction commits: if that
    // transaction aborts, the retry yields the same alert id and the hub drops the repeat.
    readUncommitted: true,
    decode: decodeEnrichedAlert,
    step(items) {
      const t = now();
      for (const { value } of items) {
        // After an outage the backlog may hold alerts that have already expired: telling
        // people about those now would be wrong, so they go to the store and archive only.
        if (Date.parse(value.expiresAt) > t) deps.hub.publish(value);
      }
      return Promise.resolve();
    },
  });
}
