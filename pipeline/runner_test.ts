import assert from "node:assert/strict";
import { MemoryBus } from "../adapters/bus/memory.ts";
import { Stage } from "./runner.ts";

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
