/**
 * The store sink: `enriched_alerts` → the live alerts store, upserted by id, so a
 * redelivered alert overwrites itself. One shared group: each alert is written once
 * however many instances run.
 */

import type { Bus } from "../adapters/bus/port.ts";
import { TOPICS } from "../adapters/bus/port.ts";
import type { AlertStore } from "../adapters/store/port.ts";
import type { EnrichedAlert } from "../domain/alert.ts";
import { decodeEnrichedAlert } from "./messages.ts";
import { Stage } from "./runner.ts";

export function createSinkStage(deps: { bus: Bus; alerts: AlertStore }): Stage<EnrichedAlert> {
  return new Stage<EnrichedAlert>({
    name: "sink",
    bus: deps.bus,
    groupId: "alertcircle-sink",
    topic: TOPICS.enrichedAlerts,
    fromBeginning: true,
    commit: "auto",
    decode: decodeEnrichedAlert,
    async step(items) {
      await deps.alerts.upsert(items.map((i) => i.value));
    },
  });
}
