import assert from "node:assert/strict";
import { expiringTopicSettings, topicSpecs } from "./topics.ts";

Deno.test("expiring topics: no record outlives its time by more than a retention check", () => {
  for (const ttlS of [10, 60, 300, 3_600]) {
    const s = expiringTopicSettings(ttlS * 1000);
    const [retention, segment] = [Number(s["retention.ms"]), Number(s["segment.ms"])];
    // A segment goes once its newest record passes retention; its oldest is a segment older.
    assert.ok(retention + segment <= ttlS * 1000, `TTL ${ttlS} s: ${retention} + ${segment}`);
    assert.ok(retention >= ttlS * 1000 * 0.9 - 1, `TTL ${ttlS} s keeps most of the TTL: ${retention}`);
    assert.equal(s["cleanup.policy"], "delete", "never compacted into a history");
  }
});

Deno.test("enriched_alerts is kept while alerts can be live, and not a week; public_alerts is the archive's", () => {
  const specs = topicSpecs({ locationTtlS: 300, alertTtlS: 600, enrichedRetentionS: 3_600 });
  const enriched = specs.find((s) => s.name === "enriched_alerts")!.config!;
  assert.equal(Number(enriched["retention.ms"]) + Number(enriched["segment.ms"]), 3_600_000);
  assert.ok(Number(enriched["max.message.bytes"]) >= 8 * 1024 * 1024);
  // An alert TTL longer than the retention asked for wins, with a minute to spare.
  const long = topicSpecs({ locationTtlS: 300, alertTtlS: 7_200, enrichedRetentionS: 3_600 })
    .find((s) => s.name === "enriched_alerts")!.config!;
  assert.ok(Number(long["retention.ms"]) >= 7_200_000);
  assert.equal(specs.find((s) => s.name === "public_alerts")!.config, undefined, "the broker's retention");
});
