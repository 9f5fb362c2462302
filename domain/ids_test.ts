import assert from "node:assert/strict";
import { uuidv7, uuidv7Time } from "./ids.ts";

Deno.test("uuidv7 ids are valid, carry their time and sort in the order they were made", () => {
  const t = Date.UTC(2026, 11, 4, 15, 0, 0);
  const ids = Array.from({ length: 5_000 }, () => uuidv7(t));
  ids.push(uuidv7(t + 1));
  for (const id of ids) {
    assert.match(
      id,
      /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
  }
  assert.deepEqual([...ids].sort(), ids);
  assert.equal(new Set(ids).size, ids.length);
  assert.ok(Math.abs(uuidv7Time(ids[0])! - t) <= 2);
  assert.equal(uuidv7Time("not-an-id"), undefined);
});
