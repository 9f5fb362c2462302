/**
 * Kafka-only behaviour of the bus on a real broker: a partition whose newest records are
 * an aborted transaction (what a crashed instance leaves) still lets a group show it has
 * caught up. The SSE resume and shutdown's drain wait for exactly that.
 */

import assert from "node:assert/strict";
import { setLogLevel } from "../../log.ts";
import { kafkaFixture } from "../../tests/support/kafka_fixture.ts";
import type { SubscribeOptions } from "./port.ts";

setLogLevel("error");

async function until(check: () => Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!await check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

Deno.test("kafka bus: onSkipped lets a group commit past an aborted transaction", async () => {
  const { prefix, bus, producer, close } = await kafkaFixture("aborted");
  const subs = [];
  try {
    await bus.ensureTopics([{ name: "t", partitions: 1 }]);
    const committed = await producer.transaction();
    await committed.send({ topic: `${prefix}t`, messages: [{ value: "a" }, { value: "b" }] });
    await committed.commit();
    const seen: Record<string, string[]> = { g: [], h: [] };
    const commitPast: SubscribeOptions["onSkipped"] = (_p, next, commit) => void commit(next);
    for (const [groupId, onSkipped] of [["g", commitPast], ["h", undefined]] as const) {
      subs.push(
        await bus.subscribe({
          groupId,
          topic: "t",
          fromBeginning: true,
          onSkipped,
          handleBatch: (b) => (seen[groupId].push(...b.messages.map((m) => m.value!)), Promise.resolve()),
        }),
      );
    }
    await until(async () => await bus.pending("g", "t") === 0 && await bus.pending("h", "t") === 0, "both groups");
    // Then a crashed instance's transaction, aborted when its successor fences it: the
    // groups' next fetch brings only its records and the abort marker.
    const aborted = await producer.transaction();
    await aborted.send({ topic: `${prefix}t`, messages: [{ value: "never" }] });
    await aborted.abort();
    await until(async () => await bus.pending("g", "t") === 0, "group g to reach the end again");
    assert.deepEqual(seen, { g: ["a", "b"], h: ["a", "b"] }, "the aborted message is never handed over");
    // Without onSkipped the group stops at the aborted records (kafkajs skips them without
    // calling the handler): what it is for.
    await new Promise((r) => setTimeout(r, 1_000));
    assert.ok(await bus.pending("h", "t") > 0);
  } finally {
    for (const s of subs) {
      await s.stop();
      await s.close();
    }
    await close();
  }
});
