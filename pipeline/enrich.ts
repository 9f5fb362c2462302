/**
 * Enrichment: `raw_alerts` → who is within the radius → `enriched_alerts`. The step
 * itself is pure (a report and its nearby users in, an enriched alert out); the stage
 * around it asks the proximity index and lets the runner publish and commit.
 */

import type { Bus } from "../adapters/bus/port.ts";
import { TOPICS } from "../adapters/bus/port.ts";
import type { LocationStore, Nearby } from "../adapters/store/port.ts";
import type { EnrichedAlert, Report } from "../domain/alert.ts";
import { areaKey } from "../domain/grid.ts";
import { decodeReport } from "./messages.ts";
import { Stage } from "./runner.ts";

export interface EnrichSettings {
  radiusM: number;
  alertTtlMs: number;
}

/** The enriched alert for a report, given everyone near it. The reporter is never told of their own report. */
export function enrich(report: Report, nearby: Nearby, settings: EnrichSettings, now: number): EnrichedAlert {
  const notifiedUserIds: string[] = [];
  const distancesM: number[] = [];
  for (let i = 0; i < nearby.userIds.length; i++) {
    if (nearby.userIds[i] === report.reporterId) continue;
    notifiedUserIds.push(nearby.userIds[i]);
    distancesM.push(nearby.distancesM[i]);
  }
  return {
    ...report,
    radiusM: settings.radiusM,
    notifiedUserIds,
    distancesM,
    notifiedCount: notifiedUserIds.length,
    enrichedAt: new Date(now).toISOString(),
    expiresAt: new Date(Date.parse(report.reportedAt) + settings.alertTtlMs).toISOString(),
  };
}

export function createEnrichStage(deps: {
  bus: Bus;
  proximity: Pick<LocationStore, "near">;
  settings: EnrichSettings;
  now?: () => number;
}): Stage<Report> {
  const now = deps.now ?? Date.now;
  return new Stage<Report>({
    name: "enrich",
    bus: deps.bus,
    groupId: "alertcircle-enrich",
    topic: TOPICS.rawAlerts,
    fromBeginning: true,
    commit: "auto",
    decode: decodeReport,
    async step(items) {
      const messages = [];
      for (const { value: report } of items) {
        const t = now();
        const nearby = await deps.proximity.near(report.lat, report.lng, deps.settings.radiusM, t);
        const enriched = enrich(report, nearby, deps.settings, t);
        messages.push({ key: areaKey(report.lat, report.lng), value: JSON.stringify(enriched), object: enriched });
      }
      return [{ topic: TOPICS.enrichedAlerts, messages }];
    },
  });
}
