/**
 * The topics AlertCircle uses and the settings each needs, as asked of the bus at start
 * (Kafka applies the settings; the embedded bus keeps nothing past its readers anyway).
 */

import type { TopicSpec } from "../adapters/bus/port.ts";
import { TOPICS } from "../adapters/bus/port.ts";

export function topicSpecs(settings: { locationTtlS: number }): TopicSpec[] {
  return [
    { name: TOPICS.rawAlerts },
    {
      name: TOPICS.enrichedAlerts,
      // An enriched alert lists everyone notified: ~35 KB for 750 users, megabytes in a
      // crowd of tens of thousands. One such message must still fit.
      config: { "max.message.bytes": String(8 * 1024 * 1024) },
    },
    { name: TOPICS.deadLetters },
    { name: TOPICS.userLocations, config: locationTopicSettings(settings.locationTtlS * 1000) },
  ];
}

/**
 * `user_locations` keeps only what the TTL needs (enough for an instance to rebuild its
 * index), never a history. Kafka deletes a whole segment once the newest record in it is
 * older than `retention.ms`, so a record can live one segment longer than that: with
 * segments a tenth of the TTL and retention one segment shorter than the TTL, none
 * outlives the TTL by more than the broker's next retention check. A location whose
 * age is between the two may be gone from the topic early, which costs nothing: an
 * active user reports every 30 s.
 */
export function locationTopicSettings(ttlMs: number): Record<string, string> {
  const segmentMs = Math.min(60_000, Math.max(1_000, Math.floor(ttlMs / 10)));
  return {
    "cleanup.policy": "delete",
    "retention.ms": String(Math.max(1_000, ttlMs - segmentMs)),
    "segment.ms": String(segmentMs),
    // Deleted segment files go at once, not a minute later.
    "file.delete.delay.ms": "0",
  };
}
