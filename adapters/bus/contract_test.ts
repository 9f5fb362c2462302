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
import type { Bus, IncomingMessage, SubscribeOptions } from "./port.ts";

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
      // A reader of transactional output commits past the transaction's commit marker,
      // so its lag can reach 0 (shutdown's drain and the SSE resume wait for that).
      await until(async () => await bus.pending("reader", "out") === 0, "the reader's commits, markers included");
      for (const p of await bus.progress("reader", "out")) assert.equal(p.committed, p.end, `partition ${p.partition}`);
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

for (const impl of impls) {
  Deno.test(`bus contract [${impl.name}]: what a topic's only group has committed can be deleted, and nothing more`, async () => {
    const bus = impl.open();
    try {
      await bus.ensureTopics([{ name: "reports" }]);
      const seen: string[] = [];
      let hold = false;
      const sub = await bus.subscribe({
        groupId: "only",
        topic: "reports",
        fromBeginning: true,
        handleBatch: async (b) => {
          // Later messages wait here uncommitted, as a stage that is behind would.
          while (hold) await new Promise((r) => setTimeout(r, 10));
          seen.push(...b.messages.map((m) => m.value!));
        },
      });
      await bus.publish("reports", ["a", "b", "c"].map((v) => ({ key: "k", value: v })));
      await until(async () => seen.length === 3 && await bus.pending("only", "reports") === 0, "the first three");
      hold = true;
      await bus.publish("reports", [{ key: "k", value: "d" }]);
      await bus.deleteConsumed("only", "reports");
      for (const p of await bus.progress("only", "reports")) {
        assert.ok(p.start >= p.committed, `partition ${p.partition}: kept from ${p.start}, committed ${p.committed}`);
      }
      // A reader from the beginning now finds only what the group has not committed.
      const late: string[] = [];
      const reader = await bus.subscribe({
        groupId: "late",
        topic: "reports",
        fromBeginning: true,
        handleBatch: (b) => (late.push(...b.messages.map((m) => m.value!)), Promise.resolve()),
      });
      await until(() => late.length >= 1, "the uncommitted message");
      await new Promise((r) => setTimeout(r, 200));
      assert.deepEqual(late, ["d"]);
      hold = false;
      await until(() => seen.length === 4, "the held message");
      for (const s of [sub, reader]) {
        await s.stop();
        await s.close();
      }
    } finally {
      await bus.close();
    }
  });

  Deno.test(`bus contract [${impl.name}]: a batch whose output is megabytes for one partition goes through`, async () => {
    const bus = impl.open();
    try {
      await bus.ensureTopics([{ name: "big-in" }, { name: "big-out" }]);
      // A stage that has fallen behind takes hundreds of small reports in one batch and
      // makes an enriched alert of ~10 KB (the users it names) from each: 3 MB for one
      // output partition, three times what a broker takes in one record batch.
      const out: number[] = [];
      // Readers first: the embedded bus keeps nothing for groups that do not exist yet.
      const reader = await bus.subscribe({
        groupId: "big-reader",
        topic: "big-out",
        fromBeginning: true,
        handleBatch: (x) => (out.push(...x.messages.map((m) => JSON.parse(m.value!).i)), Promise.resolve()),
      });
      let largest = 0;
      const enrichLike: SubscribeOptions["handleBatch"] = (batch, ctx) => {
        largest = Math.max(largest, batch.messages.length);
        const notified = Array.from({ length: 500 }, (_, n) => `user-${n}`);
        return ctx.publishAndCommit(
          [{
            topic: "big-out",
            messages: batch.messages.map((m) => ({
              key: "one-area",
              value: JSON.stringify({ i: Number(m.value), notified }),
            })),
          }],
          batch.messages[batch.messages.length - 1].offset + 1,
        );
      };
      const stage = await bus.subscribe({
        groupId: "big-stage",
        topic: "big-in",
        fromBeginning: true,
        autoCommit: false,
        handleBatch: enrichLike,
      });
      await stage.stop(); // let the reports pile up, as behind a stall
      await bus.publish("big-in", Array.from({ length: 300 }, (_, i) => ({ key: "k", value: String(i) })));
      await stage.close();
      const again = await bus.subscribe({
        groupId: "big-stage",
        topic: "big-in",
        fromBeginning: true,
        autoCommit: false,
        handleBatch: enrichLike,
      });
      await until(() => out.length >= 300, "all 300 through the transaction").catch((e) => {
        throw new Error(`${e.message}: ${out.length} arrived; largest input batch ${largest}`);
      });
      assert.deepEqual(out, Array.from({ length: 300 }, (_, i) => i));
      assert.ok(largest >= 100, `the backlog came in big batches (largest ${largest})`);
      for (const s of [again, reader]) {
        await s.stop();
        await s.close();
      }
    } finally {
      await bus.close();
    }
  });
}
