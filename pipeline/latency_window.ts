/**
 * The last N latency samples (a ring), with percentiles on demand: how long alerts take
 * from acceptance at the API to the push to clients, as this instance sees it. Cheap
 * enough to record on the hot path; /api/stats reports it.
 */

export class LatencyWindow {
  private readonly samples: Float64Array;
  private next = 0;
  private filled = 0;

  constructor(size = 10_000) {
    this.samples = new Float64Array(size);
  }

  record(ms: number): void {
    this.samples[this.next] = ms;
    this.next = (this.next + 1) % this.samples.length;
    if (this.filled < this.samples.length) this.filled++;
  }

  summary(): { count: number; p50: number; p99: number; max: number } | undefined {
    if (this.filled === 0) return undefined;
    const sorted = this.samples.slice(0, this.filled).sort();
    const at = (p: number) => sorted[Math.min(this.filled - 1, Math.ceil(p * this.filled) - 1)];
    return { count: this.filled, p50: at(0.5), p99: at(0.99), max: sorted[this.filled - 1] };
  }
}
