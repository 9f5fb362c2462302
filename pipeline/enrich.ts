/**
 * Enrichment: `raw_alerts` → `enriched_alerts`, and the same alerts without user ids to
 * `public_alerts` (see alert_outputs.ts). A report becomes a new alert telling
 * everyone within the radius, or — when it repeats a live alert (same type, within
 * DEDUPE_RADIUS_M, that alert reported or confirmed within DEDUPE_WINDOW_S) — a
 * confirmation of that alert, which extends its life and tells nobody again. The steps
 * themselves are pure; the stage around them asks the proximity index and the alert
 * tracker and lets the runner publish and commit.
 */

import type { Bus } from "../adapters/bus/port.ts";
import { TOPICS } from "../adapters/bus/port.ts";
import type { LocationStore, Nearby } from "../adapters/store/port.ts";
import type { AlertEvent, AlertUpdate, EnrichedAlert, PublicAlert, Report } from "../domain/alert.ts";
import { alertOutputs } from "./alert_outputs.ts";
import type { AlertTracker } from "./alert_tracker.ts";
import { decodeReport } from "./messages.ts";
import { Stage } from "./runner.ts";

export interface EnrichSettings {
  radiusM: number;
  alertTtlMs: number;
  dedupeRadiusM: number;
  dedupeWindowMs: number;
}

/** The enriched alert for a report, given everyone near it. The reporter is never told of their own report. */
export function enrich(
  report: Report,
  nearby: Nearby,
  settings: Pick<EnrichSettings, "radiusM" | "alertTtlMs">,
  now: number,
): EnrichedAlert {
  // Usually the reporter is not among the nearby users: then the lists are taken as they are.
  let { userIds: notifiedUserIds, distancesM } = nearby;
  const reporterAt = notifiedUserIds.indexOf(report.reporterId);
  if (reporterAt >= 0) {
    notifiedUserIds = notifiedUserIds.toSpliced(reporterAt, 1);
    distancesM = distancesM.toSpliced(reporterAt, 1);
  }
  return {
    ...report,
    kind: "alert",
    radiusM: settings.radiusM,
    notifiedUserIds,
    distancesM,
    notifiedCount: notifiedUserIds.length,
    enrichedAt: new Date(now).toISOString(),
    expiresAt: new Date(Date.parse(report.reportedAt) + settings.alertTtlMs).toISOString(),
  };
}

/** A report that repeats a live alert: the alert lives on, from this report's time. */
export function confirmation(report: Report, alert: PublicAlert, alertTtlMs: number): AlertUpdate {
  const extended = new Date(Date.parse(report.reportedAt) + alertTtlMs).toISOString();
  return {
    kind: "update",
    id: report.id,
    alertId: alert.id,
    lat: alert.lat,
    lng: alert.lng,
    at: report.reportedAt,
    confirmedBy: report.id,
    expiresAt: extended > alert.expiresAt ? extended : alert.expiresAt,
  };
}

/** Enrichment's consumer group (shared: each report is enriched once). */
export const ENRICH_GROUP = "alertcircle-enrich";

export function createEnrichStage(deps: {
  bus: Bus;
  proximity: Pick<LocationStore, "near">;
  tracker: AlertTracker;
  settings: EnrichSettings;
  now?: () => number;
  /**
   * Each alert or change as soon as it is made, before it is published: this
   * instance's own clients get it without the round trip through `enriched_alerts`
   * (on Kafka a transaction and a fetch, tens of milliseconds). Pushing before the
   * publish is no weaker than the live stage, which reads uncommitted: a batch that
   * fails is enriched again under the same ids, and the hub drops repeats.
   */
  deliver?: (event: AlertEvent) => void;
}): Stage<Report> {
  const now = deps.now ?? Date.now;
  const s = deps.settings;
  return new Stage<Report>({
    name: "enrich",
    bus: deps.bus,
    groupId: ENRICH_GROUP,
    topic: TOPICS.rawAlerts,
    fromBeginning: true,
    commit: "auto",
    decode: decodeReport,
    async step(items) {
      const events: AlertEvent[] = [];
      for (const { value: report } of items) {
        const t = now();
        const repeat = s.dedupeWindowMs > 0
          ? deps.tracker.findRepeat(report.type, report.lat, report.lng, s.dedupeRadiusM, s.dedupeWindowMs, t)
          : undefined;
        // A retried report finds the alert it made itself: that is not a repeat.
        if (repeat && repeat.id !== report.id) {
          const update = confirmation(report, repeat, s.alertTtlMs);
          deps.tracker.apply(update);
          deps.deliver?.(update);
          events.push(update);
          continue;
        }
        const nearby = await deps.proximity.near(report.lat, report.lng, s.radiusM, t);
        const enriched = enrich(report, nearby, s, t);
        // Known at once, so a repeat later in this same batch joins it.
        deps.tracker.apply(enriched);
        deps.deliver?.(enriched);
        events.push(enriched);
      }
      return alertOutputs(events);
    },
  });
}
