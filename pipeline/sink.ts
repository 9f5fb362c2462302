/**
 * The store sink: `enriched_alerts` → the live alerts store: new alerts inserted once per
 * id, changes (confirmations, endings) applied once per change id, so redeliveries are
 * harmless. One shared group: each alert is written once
 * however many instances run.
 */

import type { Bus } from "../adapters/bus/port.ts";
import { TOPICS } from "../adapters/bus/port.ts";
import type { AlertStore } from "../adapters/store/port.ts";
import type { AlertEvent, AlertUpdate, EnrichedAlert } from "../domain/alert.ts";
import { isUpdate } from "../domain/alert.ts";
import { decodeAlertEvent } from "./messages.ts";
import { commitPastSkipped, Stage } from "./runner.ts";

/** The sink's consumer group: its commits say what the store holds. */
export const SINK_GROUP = "alertcircle-sink";

export function createSinkStage(deps: { bus: Bus; alerts: AlertStore }): Stage<AlertEvent> {
  return new Stage<AlertEvent>({
    name: "sink",
    bus: deps.bus,
    groupId: SINK_GROUP,
    topic: TOPICS.enrichedAlerts,
    fromBeginning: true,
    commit: "auto",
    // Its commits tell an SSE resume when the store holds everything (CommitWatch): they
    // must reach the end past an aborted transaction's records too.
    onSkipped: commitPastSkipped("sink"),
    decode: decodeAlertEvent,
    async step(items) {
      // New alerts first, then the changes: a change always follows its alert in the log.
      const alerts: EnrichedAlert[] = [];
      const updates: AlertUpdate[] = [];
      for (const { value } of items) (isUpdate(value) ? updates : alerts).push(value as never);
      await deps.alerts.upsert(alerts);
      await deps.alerts.applyUpdates(updates);
    },
  });
}
