/**
 * Where an alert or a change to one is published: `enriched_alerts` in full, for the
 * live push and the store (who was told, and how far each was), and `public_alerts`
 * as the archive keeps it (no user ids, no distances). Two topics because the two
 * differ in how long they may be kept: who was near a sighting is needed only while
 * the alert is live, the sighting itself for good.
 */

import type { TopicMessages } from "../adapters/bus/port.ts";
import { jsonMessage, TOPICS } from "../adapters/bus/port.ts";
import type { AlertEvent } from "../domain/alert.ts";
import { toAlertRecord } from "../domain/alert_record.ts";
import { areaKey } from "../domain/grid.ts";

export function alertOutputs(events: AlertEvent[]): TopicMessages[] {
  return [
    { topic: TOPICS.enrichedAlerts, messages: events.map((e) => jsonMessage(keyOf(e), e)) },
    { topic: TOPICS.publicAlerts, messages: events.map((e) => jsonMessage(keyOf(e), toAlertRecord(e))) },
  ];
}

/** Keyed by area (an update by its alert's), so an alert's changes follow it on one partition. */
function keyOf(e: AlertEvent): string {
  return areaKey(e.lat, e.lng);
}
