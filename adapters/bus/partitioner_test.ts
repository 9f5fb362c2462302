import assert from "node:assert/strict";
import { murmur2, partitionFor } from "./partitioner.ts";

Deno.test("murmur2 matches Kafka's reference vectors", () => {
  const cases: Array<[string, number]> = [
    ["21", -973932308],
    ["foobar", -790332482],
    ["a-little-bit-long-string", -985981536],
    ["a-little-bit-longer-string", -1486304829],
    ["lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971],
    ["abc", 479470107],
  ];
  for (const [key, expected] of cases) assert.equal(murmur2(new TextEncoder().encode(key)), expected, key);
});

Deno.test("partitionFor is stable and in range", () => {
  for (let i = 0; i < 1_000; i++) {
    const p = partitionFor(`a${i}`, 6);
    assert.ok(p >= 0 && p < 6);
    assert.equal(partitionFor(`a${i}`, 6), p);
  }
});
