import assert from "node:assert/strict";
import { TOPICS } from "../adapters/bus/port.ts";
import type { AlertUpdate, EnrichedAlert } from "../domain/alert.ts";
import { AlertEventRecordMessage } from "../domain/schemas.ts";
import { alertOutputs } from "./alert_outputs.ts";

const alert: EnrichedAlert = {
  id: "01938a00-0000-7000-8000-000000000001",
  type: "tow_truck",
  lat: 32.0853,
  lng: 34.7818,
  note: "blue truck",
  reporterId: "reporter-0000-secret",
  reportedAt: "2026-12-04T15:10:00.000Z",
  source: "api",
  radiusM: 500,
  notifiedUserIds: ["user-0001-secret", "user-0002-secret"],
  distancesM: [123, 456],
  notifiedCount: 2,
  enrichedAt: "2026-12-04T15:10:00.010Z",
  expiresAt: "2026-12-04T15:20:00.000Z",
};
const ended: AlertUpdate = {
  kind: "update",
  id: `${alert.id}:ended`,
  alertId: alert.id,
  lat: alert.lat,
  lng: alert.lng,
  at: "2026-12-04T15:12:00.000Z",
  expiresAt: "2026-12-04T15:12:00.000Z",
  ended: true,
};

Deno.test("alert outputs: enriched_alerts gets everything, public_alerts no user id or distance", () => {
  const [enriched, pub] = alertOutputs([alert, ended]);
  assert.equal(enriched.topic, TOPICS.enrichedAlerts, "first, so a retried publish repeats where repeats are dropped");
  assert.equal(pub.topic, TOPICS.publicAlerts);
  assert.deepEqual(JSON.parse(enriched.messages[0].value!), alert);
  const text = pub.messages.map((m) => m.value).join("\n");
  for (const secret of ["reporter-0000-secret", "user-0001-secret", "user-0002-secret", "123", "456"]) {
    assert.ok(!text.includes(secret), secret);
  }
  const records = pub.messages.map((m) => AlertEventRecordMessage.parse(JSON.parse(m.value!)));
  assert.equal(records[0].kind === "alert" && records[0].notifiedCount, 2);
  assert.equal(records[0].kind === "alert" && records[0].note, "blue truck");
  assert.equal(records[1].kind === "update" && records[1].ended, true);
  // Same keys on both topics: an alert's changes follow it on one partition of each.
  assert.deepEqual(pub.messages.map((m) => m.key), enriched.messages.map((m) => m.key));
  assert.equal(new Set(pub.messages.map((m) => m.key)).size, 1);
});
