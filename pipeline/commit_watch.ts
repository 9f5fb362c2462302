/**
 * Tells when a consumer group has committed everything its topic held at a given
 * moment. The SSE resume uses it on the store sink's group: a client that reconnects
 * is replayed what it missed from the store, and an alert enriched before the
 * reconnect but not stored yet (the sink is behind, or its partitions are moving
 * after a crash) would be missing from that replay. Once the sink has committed what
 * the topic held when the client came back, the store has all of it.
 *
 * One polling loop serves every waiting client, however many reconnect at once (a
 * restart brings all of them), and it runs only while someone waits.
 */

import type { PartitionProgress } from "../adapters/bus/port.ts";
import { log } from "../log.ts";

interface Waiter {
  /** Rounds that began after the waiter arrived can set its target. */
  arrivedAt: number;
  /** The topic's end offsets to reach, from the first round that began after it arrived. */
  target?: Map<number, number>;
  deadline: number;
  resolve(caughtUp: boolean): void;
}

export class CommitWatch {
  private readonly waiters = new Set<Waiter>();
  private polling = false;
  private closed = false;
  /** Rounds are numbered so a waiter can tell one that began after it arrived. */
  private round = 0;

  constructor(
    private readonly deps: {
      progress(): Promise<PartitionProgress[]>;
      /**
       * Work whose output must be on the topic before its end is read: this instance's
       * enrichment hands an alert to its own clients before publishing it, so the
       * batches it has in flight publish first, and the end then covers them too.
       */
      settleFirst?(): Promise<void>;
      pollMs?: number;
    },
  ) {}

  /**
   * Resolves true once the group has committed every offset the topic held when this
   * was called, false if that did not happen within `timeoutMs` (or the watch closed).
   */
  async caughtUp(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    if (this.deps.settleFirst) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([this.deps.settleFirst(), new Promise((r) => timer = setTimeout(r, timeoutMs))]);
      clearTimeout(timer);
    }
    if (this.closed) return false;
    return await new Promise((resolve) => {
      this.waiters.add({ arrivedAt: this.round, deadline, resolve });
      if (!this.polling) this.poll();
    });
  }

  /** Lets every waiter go (shutdown). */
  close(): void {
    this.closed = true;
    for (const w of this.waiters) w.resolve(false);
    this.waiters.clear();
  }

  private async poll(): Promise<void> {
    this.polling = true;
    try {
      while (this.waiters.size > 0) {
        const round = ++this.round;
        try {
          const progress = await this.deps.progress();
          this.settle(round, progress);
        } catch (err) {
          // The broker is away: ask again; the waiters' deadlines bound the wait.
          log.debug("commit_watch.progress_failed", { error: String(err) });
        }
        this.expire();
        if (this.waiters.size > 0) await new Promise((r) => setTimeout(r, this.deps.pollMs ?? 200));
      }
    } finally {
      this.polling = false;
    }
  }

  private settle(round: number, progress: PartitionProgress[]): void {
    const committed = new Map(progress.map((p) => [p.partition, p.committed]));
    for (const w of this.waiters) {
      // Only a round that began after the waiter arrived saw the topic as it was then.
      if (w.arrivedAt >= round) continue;
      w.target ??= new Map(progress.map((p) => [p.partition, p.end]));
      let done = true;
      for (const [partition, end] of w.target) {
        if ((committed.get(partition) ?? -1) < end) {
          done = false;
          break;
        }
      }
      if (done) {
        this.waiters.delete(w);
        w.resolve(true);
      }
    }
  }

  private expire(): void {
    const now = Date.now();
    for (const w of this.waiters) {
      if (now < w.deadline) continue;
      this.waiters.delete(w);
      w.resolve(false);
    }
  }
}
