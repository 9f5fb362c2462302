import assert from "node:assert/strict";
import { MemoryBus } from "../adapters/bus/memory.ts";
import type { SubscribeOptions } from "../adapters/bus/port.ts";
import { setLogLevel } from "../log.ts";
import { Stage } from "./runner.ts";

setLogLevel("error");

Deno.test("stage: settled() waits for the batches being handled when it is called, not later ones", async () => {
  const bus = new MemoryBus(1);
  let release = () => {};
  const blocked = new Promise<void>((r) => release = r);
  let handled = 0;
  const stage = new Stage<string>({
    name: "slow",
    bus,
    groupId: "slow",
    topic: "in",
    fromBeginning: true,
    commit: "auto",
    decode: (m) => m.value!,
    async step(items) {
      await blocked;
      handled += items.length;
      return [{ topic: "out", messages: items.map((i) => ({ key: null, value: i.value })) }];
    },
  });
  await stage.start();
  try {
    await bus.publish("in", [{ key: "k", value: "a" }]);
    await new Promise((r) => setTimeout(r, 20));
    let settled = false;
    const waiting = stage.settled().then(() => settled = true);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(settled, false, "the batch in flight has not published yet");
    release();
    await waiting;
    assert.equal(handled, 1);
    assert.equal(await bus.pending("slow", "in"), 0, "published and committed by then");
    // Nothing in flight: at once.
    await stage.settled();
  } finally {
    await stage.stop();
    await stage.close();
    await bus.close();
  }
});

Deno.test("stage: a commit that landed though its answer was lost is not done again", async () => {
  const real = new MemoryBus(1);
  let loseAnswer = true;
  // The embedded bus, with the first publish-and-commit's answer lost after it took effect,
  // as when a broker goes away between committing a transaction and answering.
  const bus = new Proxy(real, {
    get(target, key) {
      if (key === "subscribe") {
        return (options: SubscribeOptions) =>
          target.subscribe({
            ...options,
            handleBatch: (batch, ctx) =>
              options.handleBatch(batch, {
                ...ctx,
                publishAndCommit: async (outputs, next) => {
                  await ctx.publishAndCommit(outputs, next);
                  if (loseAnswer) {
                    loseAnswer = false;
                    throw new Error("connection lost before the answer");
                  }
                },
              }),
          });
      }
      const value = Reflect.get(target, key);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  const stage = new Stage<string>({
    name: "enrich-like",
    bus,
    groupId: "once",
    topic: "in",
    fromBeginning: true,
    commit: "auto",
    decode: (m) => m.value!,
    backoffMs: { initial: 5, max: 5 },
    step: (items) => Promise.resolve([{ topic: "out", messages: items.map((i) => ({ key: null, value: i.value })) }]),
  });
  await stage.start();
  try {
    await real.publish("in", [{ key: "k", value: "a" }]);
    const deadline = Date.now() + 3_000;
    while (await real.pending("once", "in") > 0 || stage.stats.retries === 0) {
      if (Date.now() > deadline) throw new Error("the batch was not handled");
      await new Promise((r) => setTimeout(r, 10));
    }
    await stage.settled();
    const out = await real.progress("nobody", "out");
    assert.equal(out.reduce((n, p) => n + p.end, 0), 1, "the output published once");
    assert.equal(stage.stats.processed, 1);
  } finally {
    await stage.stop();
    await stage.close();
    await real.close();
  }
});
