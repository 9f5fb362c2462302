import assert from "node:assert/strict";
import { PartitionGate } from "./partition_gate.ts";

Deno.test("partition gate: a partition's batches take turns, other partitions do not wait; commits are remembered", async () => {
  const gate = new PartitionGate();
  const order: string[] = [];
  const releaseOld = await gate.enter(0);
  const next = gate.enter(0).then((release) => {
    order.push(`new run starts after ${gate.committedThrough(0)}`);
    release();
  });
  const other = gate.enter(1).then((release) => {
    order.push("partition 1");
    release();
  });
  await other;
  await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(order, ["partition 1"], "partition 0's next batch waits for the one in hand");
  gate.noteCommitted(0, 42);
  gate.noteCommitted(0, 40);
  releaseOld();
  await next;
  assert.deepEqual(order, ["partition 1", "new run starts after 42"]);
  assert.equal(gate.committedThrough(3), -1);
});
