import assert from "node:assert/strict";
import { RateLimiter } from "./rate_limiter.ts";

Deno.test("rate limiter: allows the limit, refuses the next with a Retry-After, per key", () => {
  let t = 1_000_000_000;
  const limiter = new RateLimiter({ count: 5, windowS: 600 }, () => t);
  for (let i = 0; i < 5; i++) assert.ok(limiter.take("alice").ok);
  const refused = limiter.take("alice");
  assert.equal(refused.ok, false);
  assert.ok(refused.retryAfterS >= 1 && refused.retryAfterS <= 600);
  assert.ok(limiter.take("bob").ok, "another key has its own budget");
  t += 1_200_000; // two windows later everything has slid out
  assert.ok(limiter.take("alice").ok);
});

Deno.test("rate limiter: the window slides rather than resetting all at once", () => {
  let t = 600_000 * 1000; // at a window boundary
  const limiter = new RateLimiter({ count: 10, windowS: 600 }, () => t);
  for (let i = 0; i < 10; i++) assert.ok(limiter.take("k").ok);
  t += 600_000 + 60_000; // 10% into the next window: 90% of the old ten still count
  assert.equal(limiter.take("k").ok, true);
  assert.equal(limiter.take("k").ok, false);
});

Deno.test("rate limiter: 1 per second", () => {
  let t = 5_000;
  const limiter = new RateLimiter({ count: 1, windowS: 1 }, () => t);
  assert.ok(limiter.take("u").ok);
  assert.equal(limiter.take("u").ok, false);
  t += 2_000;
  assert.ok(limiter.take("u").ok);
});

Deno.test("rate limiter: idle keys are forgotten, so memory stays bounded", () => {
  let t = 0;
  const limiter = new RateLimiter({ count: 1, windowS: 1 }, () => t);
  for (let i = 0; i < 5_000; i++) {
    t += 10;
    limiter.take(`addr-${i}`);
  }
  assert.ok(limiter.size < 1_000, `${limiter.size} keys held`);
});
