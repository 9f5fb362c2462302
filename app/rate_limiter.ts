/**
 * Per-key rate limits (a user, a client address): at most `count` events per `windowS`
 * seconds, counted over a sliding window (the current fixed window plus the overlapping
 * share of the previous one). Memory stays bounded: keys idle for two windows are dropped.
 * Limits are per instance; behind a load balancer each instance enforces its own.
 */

import type { RateLimit } from "../config.ts";

interface Counter {
  window: number;
  current: number;
  previous: number;
}

export interface Verdict {
  ok: boolean;
  /** Whole seconds until a retry can succeed (for Retry-After). */
  retryAfterS: number;
}

export class RateLimiter {
  private readonly counters = new Map<string, Counter>();
  private readonly windowMs: number;
  private checks = 0;

  constructor(private readonly limit: RateLimit, private readonly now: () => number = Date.now) {
    this.windowMs = limit.windowS * 1000;
  }

  /** Counts one event for `key` if it is within the limit. */
  take(key: string): Verdict {
    const t = this.now();
    const window = Math.floor(t / this.windowMs);
    if (++this.checks % 1_000 === 0) this.prune(window);
    let c = this.counters.get(key);
    if (!c) this.counters.set(key, c = { window, current: 0, previous: 0 });
    if (c.window !== window) {
      c.previous = c.window === window - 1 ? c.current : 0;
      c.current = 0;
      c.window = window;
    }
    const elapsed = (t % this.windowMs) / this.windowMs;
    const estimate = c.previous * (1 - elapsed) + c.current;
    if (estimate + 1 > this.limit.count) {
      // When enough of the previous window has slid out, or the next window starts.
      const untilFree = c.previous > 0 && c.current < this.limit.count
        ? ((estimate + 1 - this.limit.count) / c.previous) * this.windowMs
        : (1 - elapsed) * this.windowMs;
      return { ok: false, retryAfterS: Math.max(1, Math.ceil(untilFree / 1000)) };
    }
    c.current++;
    return { ok: true, retryAfterS: 0 };
  }

  get size(): number {
    return this.counters.size;
  }

  private prune(window: number): void {
    for (const [key, c] of this.counters) if (c.window < window - 1) this.counters.delete(key);
  }
}
