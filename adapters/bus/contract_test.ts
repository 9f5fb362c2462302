/**
 * One suite for the bus port, run against the embedded bus and a real Kafka 4 broker:
 * keyed order, consumer groups, commits and lag, redelivery after a failed batch,
 * publish-and-commit in one step, and a graceful stop that still lets a stage commit.
 */

import assert from "node:assert/strict";
import { loadConfig } from "../../config.ts";
import { setLogLevel } from "../../log.ts";
import { realServices, uniqueName } from "../../tests/support/services.ts";
import { KafkaBus } from "./kafka.ts";
import { MemoryBus } from "./memory.ts";
import type { Bus, IncomingMessage } from "./port.ts";

setLogLevel("error");

const impls: Array<{ name: string; open(): Bus }> = [
  { name: "memory", open: () => new MemoryBus(3) },
  {
    name: "kafka",
    open: () => {
      const config = loadConfig({
        KAFKA_BROKERS: realServices().kafkaBrokers,
        KAFKA_TOPIC_PREFIX: `${uniqueName("bus")}.`,
        KAFKA_PARTITIONS: "3",
      });
      return new KafkaBus(config.kafka!, "contract");
    },
  },
];

async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!await check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

for (const impl of impls) {
  Deno.test(`bus contract [${impl.name}]: keyed order, independent groups, commits and lag`, async () => {
    const bus = impl.open();
    try {
      await bus.ensureTopics([{ name: "t" }]);
      const a: IncomingMessage[] = [];
      const b: IncomingMessage[] = [];
      const subA = await bus.subscribe({
        groupId: "a",
        topic: "t",
        fromBeginning: true,
        handleBatch: (x) => (a.push(...x.messages), Promise.resolve()),
      });
      const subB = await bus.subscribe({
        groupId: "b",
        topic: "t",
        fromBeginning: true,
        handleBatch: (x) => (b.push(...x.messages), Promise.resolve()),
      });
      for (let i = 0; i < 60; i++) {
        await bus.publish("t", [{ key: `k${i % 4}`, value: String(i), headers: { n: String(i) } }]);
      }
      await until(() => a.length >= 60 && b.length >= 60, "both groups to read everything");
      for (const key of ["k0", "k1", "k2", "k3"]) {
        const seq = a.filter((m) => m.key === key).map((m) => Number(m.value));
        assert.deepEqual(seq, [...seq].sort((x, y) => x - y), `order of ${key}`);
        assert.equal(new Set(a.filter((m) => m.key === key).map((m) => m.partition)).size, 1);
      }
      assert.equal(a.find((m) => m.value === "7")?.headers.n, "7");
      await until(async () => await bus.pending("a", "t") === 0, "group a's commits");
      await subA.stop();
      await subA.close();
      await subB.stop();
      await subB.close();
    } finally {
      await bus.close();
    }
  });

  Deno.test(`bus contract [${impl.name}]: a failed batch comes again; publishAndCommit moves output and offset together`, async () => {
    const bus = impl.open();
    try {
      await bus.ensureTopics([{ name: "in" }, { name: "out" }]);
      let failOnce = true;
      const revoked: Array<number | undefined> = [];
      const stage = await bus.subscribe({
        groupId: "stage",
        topic: "in",
        fromBeginning: true,
        autoCommit: false,
        onRevoke: (_t, p) => revoked.push(p),
        handleBatch: async (batch, ctx) => {
          if (failOnce) {
            failOnce = false;
            throw new Error("transient");
          }
          await ctx.publishAndCommit(
            [{ topic: "out", messages: batch.messages.map((m) => ({ key: m.key, value: `${m.value}!` })) }],
            batch.messages[batch.messages.length - 1].offset + 1,
          );
        },
      });
      const out: string[] = [];
      const reader = await bus.subscribe({
        groupId: "reader",
        topic: "out",
        fromBeginning: true,
        handleBatch: (x) => (out.push(...x.messages.map((m) => m.value!)), Promise.resolve()),
      });
      await bus.publish("in", [{ key: "k", value: "a" }, { key: "k", value: "b" }, { key: "k", value: "c" }]);
      await until(() => out.length >= 3, "the enriched output");
      await until(async () => await bus.pending("stage", "in") === 0, "the stage's offsets");
      await new Promise((r) => setTimeout(r, 300));
      assert.deepEqual(out.sort(), ["a!", "b!", "c!"], "each output exactly once despite the failed first try");
      await stage.stop();
      await stage.close();
      await reader.stop();
      await reader.close();
    } finally {
      await bus.close();
    }
  });

  Deno.test(`bus contract [${impl.name}]: after stop() the batch in flight finishes and can still commit`, async () => {
    const bus = impl.open();
    try {
      await bus.ensureTopics([{ name: "s" }]);
      let commit: ((n: number) => Promise<void>) | undefined;
      let last = -1;
      const sub = await bus.subscribe({
        groupId: "manual",
        topic: "s",
        fromBeginning: true,
        autoCommit: false,
        handleBatch: (batch, ctx) => {
          commit = ctx.commit;
          last = batch.messages[batch.messages.length - 1].offset;
          return Promise.resolve();
        },
      });
      await bus.publish("s", [{ key: "one", value: "1" }, { key: "one", value: "2" }]);
      await until(() => last >= 1, "delivery");
      assert.equal(await bus.pending("manual", "s"), 2);
      await sub.stop();
      await commit!(last + 1);
      assert.equal(await bus.pending("manual", "s"), 0);
      await sub.close();
      assert.equal(bus.health().ok, true);
    } finally {
      await bus.close();
    }
  });
}
