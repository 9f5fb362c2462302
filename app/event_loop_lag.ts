/**
 * How late the event loop runs a timer: the time everything queued behind a blocking
 * piece of work (a garbage collection, a big batch, a sweep) waits. A 20 ms ticker
 * measures it; /api/stats reports the recent percentiles, so a latency tail can be
 * traced to the process itself or ruled out.
 */

import { LatencyWindow } from "../pipeline/latency_window.ts";

export class EventLoopLag {
  readonly window = new LatencyWindow(3_000);
  private timer?: ReturnType<typeof setInterval>;

  start(everyMs = 20): void {
    let expected = performance.now() + everyMs;
    this.timer = setInterval(() => {
      const now = performance.now();
      this.window.record(Math.max(0, now - expected));
      expected = now + everyMs;
    }, everyMs);
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
