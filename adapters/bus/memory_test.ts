import assert from "node:assert/strict";
import { MemoryBus } from "./memory.ts";
import type { Batch, IncomingMessage } from "./port.ts";

async function until(check: () => boolean | Promise<boolean>, timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!await check()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 5));
  }
}

Deno.test("messages with one key stay in order on one partition", async () => {
  const bus = new MemoryBus(4);
  const seen: IncomingMessage[] = [];
  const sub = await bus.subscribe({
    groupId: "g",
    topic: "t",
    fromBeginning: true,
    handleBatch: (b) => (seen.push(...b.messages), Promise.resolve()),
  });
  for (let i = 0; i < 100; i++) await bus.publish("t", [{ key: `k${i % 3}`, value: String(i) }]);
  await until(() => seen.length === 100);
  for (const key of ["k0", "k1", "k2"]) {
    const mine = seen.filter((m) => m.key === key);
    assert.equal(new Set(mine.map((m) => m.partition)).size, 1);
    assert.deepEqual(mine.map((m) => Number(m.value)), [...mine.map((m) => Number(m.value))].sort((a, b) => a - b));
  }
  await sub.close();
});

Deno.test("a failed batch is delivered again from the committed offset, and nothing is skipped", async () => {
  const bus = new MemoryBus(1);
  let failures = 0;
  const got: string[] = [];
  const revoked: number[] = [];
  const sub = await bus.subscribe({
    groupId: "g",
    topic: "t",
    fromBeginning: true,
    onRevoke: (_t, p) => revoked.push(p ?? -1),
    handleBatch: (b: Batch) => {
      if (b.messages.some((m) => m.value === "3") && failures < 2) {
        failures++;
        return Promise.reject(new Error("store down"));
      }
      got.push(...b.messages.map((m) => m.value!));
      return Promise.resolve();
    },
  });
  for (let i = 0; i < 6; i++) await bus.publish("t", [{ key: "k", value: String(i) }]);
  await until(() => got.includes("5"));
  assert.deepEqual([...new Set(got)].sort(), ["0", "1", "2", "3", "4", "5"]);
  assert.equal(failures, 2);
  assert.ok(revoked.length >= 2, "the consumer is told to drop unflushed state");
  assert.equal(await bus.pending("g", "t"), 0);
  await sub.close();
});

Deno.test("groups are independent; a group without commits starts where it is told to", async () => {
  const bus = new MemoryBus(2);
  await bus.publish("t", [{ key: "a", value: "old" }]);
  const early: string[] = [];
  const late: string[] = [];
  const a = await bus.subscribe({
    groupId: "from-beginning",
    topic: "t",
    fromBeginning: true,
    handleBatch: (b) => (early.push(...b.messages.map((m) => m.value!)), Promise.resolve()),
  });
  const b = await bus.subscribe({
    groupId: "only-new",
    topic: "t",
    fromBeginning: false,
    handleBatch: (b) => (late.push(...b.messages.map((m) => m.value!)), Promise.resolve()),
  });
  await bus.publish("t", [{ key: "a", value: "new" }]);
  await until(() => early.length === 2 && late.length === 1);
  assert.deepEqual(early, ["old", "new"]);
  assert.deepEqual(late, ["new"]);
  await Promise.all([a.close(), b.close()]);
});

Deno.test("manual commits: pending counts what is not committed yet", async () => {
  const bus = new MemoryBus(1);
  let commit: ((n: number) => Promise<void>) | undefined;
  let last = -1;
  const sub = await bus.subscribe({
    groupId: "g",
    topic: "t",
    fromBeginning: true,
    autoCommit: false,
    handleBatch: (b, ctx) => {
      commit = ctx.commit;
      last = b.messages[b.messages.length - 1].offset;
      return Promise.resolve();
    },
  });
  await bus.publish("t", [{ key: null, value: "1" }, { key: null, value: "2" }]);
  await until(() => last === 1);
  assert.equal(await bus.pending("g", "t"), 2);
  await commit!(2);
  assert.equal(await bus.pending("g", "t"), 0);
  await sub.stop();
  await sub.close();
});

Deno.test("publishAndCommit writes the output and moves the input offset together", async () => {
  const bus = new MemoryBus(1);
  const out: string[] = [];
  const downstream = await bus.subscribe({
    groupId: "d",
    topic: "out",
    fromBeginning: true,
    handleBatch: (b) => (out.push(...b.messages.map((m) => m.value!)), Promise.resolve()),
  });
  const stage = await bus.subscribe({
    groupId: "s",
    topic: "in",
    fromBeginning: true,
    autoCommit: false,
    handleBatch: (b, ctx) =>
      ctx.publishAndCommit(
        [{ topic: "out", messages: b.messages.map((m) => ({ key: m.key, value: `${m.value}!` })) }],
        b.messages[b.messages.length - 1].offset + 1,
      ),
  });
  await bus.publish("in", [{ key: "k", value: "a" }, { key: "k", value: "b" }]);
  await until(() => out.length === 2);
  assert.deepEqual(out, ["a!", "b!"]);
  assert.equal(await bus.pending("s", "in"), 0);
  await Promise.all([stage.close(), downstream.close()]);
});

Deno.test("one consumer per group and topic in one process", async () => {
  const bus = new MemoryBus(1);
  const sub = await bus.subscribe({
    groupId: "g",
    topic: "t",
    fromBeginning: true,
    handleBatch: () => Promise.resolve(),
  });
  await assert.rejects(
    bus.subscribe({ groupId: "g", topic: "t", fromBeginning: true, handleBatch: () => Promise.resolve() }),
    /already consumes/,
  );
  await sub.close();
  await bus.close();
  await assert.rejects(bus.publish("t", [{ key: null, value: "x" }]), /closed/);
});

Deno.test("retention: messages every active group has committed are released", async () => {
  const bus = new MemoryBus(1);
  const sub = await bus.subscribe({
    groupId: "g",
    topic: "t",
    fromBeginning: true,
    handleBatch: () => Promise.resolve(),
  });
  for (let i = 0; i < 30_000; i++) await bus.publish("t", [{ key: null, value: "x" }]);
  await until(async () => await bus.pending("g", "t") === 0);
  // @ts-ignore: reading the private partition list is the point of this test
  const held = bus.topics.get("t").partitions[0].messages.length as number;
  assert.ok(held <= 11_000, `${held} messages still held`);
  await sub.close();
});
