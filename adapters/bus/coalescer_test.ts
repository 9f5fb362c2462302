import assert from "node:assert/strict";
import { Coalescer } from "./coalescer.ts";

Deno.test("coalescer: requests made together run as one operation, one operation at a time", async () => {
  const runs: number[][] = [];
  let concurrent = 0;
  let maxConcurrent = 0;
  const c = new Coalescer<number>(async (items) => {
    concurrent++;
    maxConcurrent = Math.max(maxConcurrent, concurrent);
    runs.push(items);
    await new Promise((r) => setTimeout(r, 20));
    concurrent--;
  });
  const first = [1, 2, 3].map((n) => c.submit(n));
  await new Promise((r) => setTimeout(r, 5)); // the first operation is running now
  const second = [4, 5].map((n) => c.submit(n));
  await Promise.all([...first, ...second]);
  assert.deepEqual(runs, [[1, 2, 3], [4, 5]]);
  assert.equal(maxConcurrent, 1);
});

Deno.test("coalescer: a failed operation fails every request it carried, and the next one runs", async () => {
  let fail = true;
  const c = new Coalescer<string>((items) => {
    if (fail) {
      fail = false;
      return Promise.reject(new Error(`failed ${items.join(",")}`));
    }
    return Promise.resolve();
  });
  const a = c.submit("a");
  const b = c.submit("b");
  await assert.rejects(a, /failed a,b/);
  await assert.rejects(b, /failed a,b/);
  await c.submit("c");
});
