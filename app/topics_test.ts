import assert from "node:assert/strict";
import { locationTopicSettings } from "./topics.ts";

Deno.test("user_locations settings: no record outlives the TTL by more than a retention check", () => {
  for (const ttlS of [10, 60, 300, 3_600]) {
    const s = locationTopicSettings(ttlS * 1000);
    const [retention, segment] = [Number(s["retention.ms"]), Number(s["segment.ms"])];
    // A segment goes once its newest record passes retention; its oldest is a segment older.
    assert.ok(retention + segment <= ttlS * 1000, `TTL ${ttlS} s: ${retention} + ${segment}`);
    assert.ok(retention >= ttlS * 1000 * 0.9 - 1, `TTL ${ttlS} s keeps most of the TTL: ${retention}`);
    assert.equal(s["cleanup.policy"], "delete", "never compacted into a history");
  }
});
