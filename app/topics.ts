/**
 * The topics AlertCircle uses and the settings each needs, as asked of the bus at start
 * (Kafka applies the settings; the embedded bus keeps nothing past its readers anyway).
 */

import type { TopicSpec } from "../adapters/bus/port.ts";
import { TOPICS } from "../adapters/bus/port.ts";

export function topicSpecs(
  settings: { locationTtlS: number; alertTtlS: number; enrichedRetentionS: number },
): TopicSpec[] {
  return [
    { name: TOPICS.rawAlerts },
    {
      name: TOPICS.enrichedAlerts,
      config: {
        // An enriched alert lists everyone notified: ~35 KB for 750 users, megabytes in a
        // crowd of tens of thousands. One such message must still fit.
        "max.message.bytes": String(8 * 1024 * 1024),
        // Who was near a sighting is needed while the alert can be live (the live push,
        // the store sink after an outage), not for a week; the archive reads public_alerts.
        ...expiringTopicSettings(Math.max(settings.enrichedRetentionS, settings.alertTtlS + 60) * 1000),
      },
    },
    // The broker's retention (Kafka's default is a week): the archive catches up from it.
    { name: TOPICS.publicAlerts },
    { name: TOPICS.deadLetters },
    { name: TOPICS.userLocations, config: expiringTopicSettings(settings.locationTtlS * 1000) },
  ];
}

/**
 * Settings for a topic whose records must be gone `keepMs` after they were written
 * (`user_locations` after the location TTL, `enriched_alerts` after alerts stop being
 * live). Kafka deletes a whole segment once the newest record in it is older than
 * `retention.ms`, so a record can live one segment longer than that: with segments a
 * tenth of the time (a minute at most) and retention one segment shorter, none
 * outlives `keepMs` by more than the broker's next retention check. A record may go up
 * to one segment early, which costs nothing here: an active user reports every 30 s,
 * and `enriched_alerts` keeps a minute more than an alert's life.
 */
export function expiringTopicSettings(keepMs: number): Record<string, string> {
  const segmentMs = Math.min(60_000, Math.max(1_000, Math.floor(keepMs / 10)));
  return {
    "cleanup.policy": "delete",
    "retention.ms": String(Math.max(1_000, keepMs - segmentMs)),
    "segment.ms": String(segmentMs),
    // Deleted segment files go at once, not a minute later.
    "file.delete.delay.ms": "0",
  };
}
