import assert from "node:assert/strict";
import type { PartitionProgress } from "../adapters/bus/port.ts";
import { CommitWatch } from "./commit_watch.ts";

/** A topic of two partitions whose ends and group commits the test moves by hand. */
function fakeGroup() {
  const state = { ends: [10, 4], committed: [10, 4], asked: 0, failing: false };
  const progress = (): Promise<PartitionProgress[]> => {
    state.asked++;
    if (state.failing) return Promise.reject(new Error("broker away"));
    return Promise.resolve(
      state.ends.map((end, partition) => ({ partition, end, committed: state.committed[partition], start: 0 })),
    );
  };
  return { state, progress };
}

Deno.test("commit watch: resolves at once when the group is caught up", async () => {
  const { progress } = fakeGroup();
  const watch = new CommitWatch({ progress, pollMs: 5 });
  assert.equal(await watch.caughtUp(1_000), true);
});

Deno.test("commit watch: waits for every partition to reach the end it had when asked, not later ends", async () => {
  const { state, progress } = fakeGroup();
  state.ends = [12, 7];
  const watch = new CommitWatch({ progress, pollMs: 5 });
  let settled: boolean | undefined;
  const waiting = watch.caughtUp(5_000).then((v) => settled = v);
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(settled, undefined, "behind on both partitions");
  state.committed = [12, 6];
  // Messages appended after the question do not hold it up.
  state.ends = [20, 9];
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(settled, undefined, "partition 1 still short of 7");
  state.committed = [12, 7];
  await waiting;
  assert.equal(settled, true);
});

Deno.test("commit watch: gives up after its timeout, and keeps asking through errors", async () => {
  const { state, progress } = fakeGroup();
  state.ends = [11, 4];
  state.failing = true;
  const watch = new CommitWatch({ progress, pollMs: 5 });
  const started = Date.now();
  assert.equal(await watch.caughtUp(60), false);
  assert.ok(Date.now() - started >= 60);
  assert.ok(state.asked >= 3, `asked ${state.asked} times`);
  // The loop stops with no one waiting.
  const asked = state.asked;
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(state.asked, asked);
});

Deno.test("commit watch: one loop serves many waiters; closing lets them all go", async () => {
  const { state, progress } = fakeGroup();
  state.ends = [11, 4];
  const watch = new CommitWatch({ progress, pollMs: 10 });
  const all = Promise.all(Array.from({ length: 1_000 }, () => watch.caughtUp(10_000)));
  await new Promise((r) => setTimeout(r, 35));
  assert.ok(state.asked <= 6, `one question per round, not per waiter: ${state.asked}`);
  watch.close();
  assert.deepEqual(new Set(await all), new Set([false]));
  assert.equal(await watch.caughtUp(1_000), false, "closed");
});

Deno.test("commit watch: reads the topic's end only after settleFirst, so what that work published counts", async () => {
  const { state, progress } = fakeGroup();
  let settle = () => {};
  const watch = new CommitWatch({ progress, pollMs: 5, settleFirst: () => new Promise((r) => settle = r) });
  let settled: boolean | undefined;
  const waiting = watch.caughtUp(5_000).then((v) => settled = v);
  await new Promise((r) => setTimeout(r, 20));
  // The work in flight publishes: the topic grows before its end is read.
  state.ends = [12, 4];
  settle();
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(settled, undefined, "must reach 12, not the 10 it had when asked");
  state.committed = [12, 4];
  await waiting;
  assert.equal(settled, true);
});
