/**
 * The loop that feeds a pipeline stage: reads batches from a topic, decodes each
 * message, sends undecodable ones to the dead-letter topic with the reason, and calls
 * the stage's step on the rest. A failing step (a store or broker that is down) is
 * retried in place with capped exponential backoff; nothing is committed until it
 * succeeds, so an outage delays messages but never drops them.
 */

import type {
  Batch,
  BatchContext,
  Bus,
  IncomingMessage,
  OutgoingMessage,
  SubscribeOptions,
  Subscription,
  TopicMessages,
} from "../adapters/bus/port.ts";
import { TOPICS } from "../adapters/bus/port.ts";
import { log } from "../log.ts";

/** Thrown by a decoder for a message that can never be processed. */
export class PoisonMessage extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = "PoisonMessage";
  }
}

export interface Decoded<T> {
  message: IncomingMessage;
  value: T;
}

export interface StageOptions<T> {
  /** Short name for logs and stats, e.g. "enrich". */
  name: string;
  bus: Bus;
  groupId: string;
  topic: string;
  fromBeginning: boolean;
  decode(message: IncomingMessage): T;
  /**
   * The stage's work for one batch. "auto" stages return messages to publish; the
   * runner publishes them and commits the batch in one step. "manual" stages commit
   * themselves through the context (e.g. the archive, after its upload).
   */
  step(items: Decoded<T>[], batch: Batch, ctx: BatchContext): Promise<TopicMessages[] | void>;
  commit: "auto" | "manual";
  /** See the bus's SubscribeOptions.readUncommitted. */
  readUncommitted?: boolean;
  onRevoke?(topic: string, partition?: number): void;
  /** See the bus's SubscribeOptions.onSkipped (commitPastSkipped for a stage that keeps nothing). */
  onSkipped?: SubscribeOptions["onSkipped"];
  /** First and longest wait between retries of a failing step. */
  backoffMs?: { initial: number; max: number };
}

export interface StageStats {
  name: string;
  processed: number;
  deadLettered: number;
  retries: number;
  lastError?: string;
  lastErrorAt?: string;
}

export class Stage<T> {
  readonly stats: StageStats;
  private subscription?: Subscription;
  /** Batches being handled now (a step, and its publish and commit). */
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly options: StageOptions<T>) {
    this.stats = { name: options.name, processed: 0, deadLettered: 0, retries: 0 };
  }

  async start(): Promise<void> {
    const o = this.options;
    this.subscription = await o.bus.subscribe({
      groupId: o.groupId,
      topic: o.topic,
      fromBeginning: o.fromBeginning,
      autoCommit: false,
      readUncommitted: o.readUncommitted,
      onSkipped: o.onSkipped,
      onRevoke: o.onRevoke,
      handleBatch: (batch, ctx) => {
        const handling = this.handle(batch, ctx);
        this.inFlight.add(handling);
        handling.then(() => this.inFlight.delete(handling), () => this.inFlight.delete(handling));
        return handling;
      },
    });
  }

  /**
   * Resolves once every batch being handled at the call has finished: its output is
   * published (or the attempt failed). What a step hands out before its publish (the
   * enrich stage's local delivery) is on the bus after this.
   */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.inFlight]);
  }

  /** The group's committed offset for a partition of the stage's topic; -1 when the bus cannot say. */
  private async committedThrough(partition: number): Promise<number> {
    try {
      const progress = await this.options.bus.progress(this.options.groupId, this.options.topic);
      return progress.find((p) => p.partition === partition)?.committed ?? -1;
    } catch {
      return -1;
    }
  }

  /** Stops taking batches and waits for the one in flight; commits still work after. */
  async stop(): Promise<void> {
    await this.subscription?.stop();
  }

  async close(): Promise<void> {
    await this.subscription?.close();
    this.subscription = undefined;
  }

  private async handle(batch: Batch, ctx: BatchContext): Promise<void> {
    const o = this.options;
    const good: Decoded<T>[] = [];
    const dead: OutgoingMessage[] = [];
    for (const message of batch.messages) {
      try {
        good.push({ message, value: o.decode(message) });
      } catch (err) {
        dead.push(deadLetter(o.name, message, err));
      }
    }
    const next = batch.nextOffset;
    const { initial, max } = o.backoffMs ?? { initial: 100, max: 5_000 };
    let wait = initial;
    let committing = false;
    for (let attempt = 1;; attempt++) {
      try {
        const outputs = good.length > 0 ? await o.step(good, batch, ctx) ?? [] : [];
        if (dead.length > 0) outputs.push({ topic: TOPICS.deadLetters, messages: dead });
        if (o.commit === "auto") {
          committing = true;
          // Only a stage with output needs the atomic (transactional) path.
          if (outputs.some((out) => out.messages.length > 0)) await ctx.publishAndCommit(outputs, next);
          else await ctx.commit(next);
        } else if (outputs.length > 0) { for (const out of outputs) await o.bus.publish(out.topic, out.messages); }
        this.stats.processed += good.length;
        this.stats.deadLettered += dead.length;
        if (dead.length > 0) log.warn("stage.dead_lettered", { stage: o.name, count: dead.length });
        return;
      } catch (err) {
        if (ctx.signal.aborted) throw err;
        // Another run of the consumer has this batch now; retrying here would only hold it up.
        if (ctx.stale?.()) throw err;
        this.stats.retries++;
        this.stats.lastError = err instanceof Error ? err.message : String(err);
        this.stats.lastErrorAt = new Date().toISOString();
        log.warn("stage.retry", { stage: o.name, attempt, retryInMs: wait, error: this.stats.lastError });
        await sleep(wait, ctx.signal);
        if (ctx.signal.aborted) throw new Error(`${o.name} stopped while retrying`);
        // A long outage must not get this consumer thrown out of its group.
        await ctx.heartbeat().catch(() => {});
        // A commit whose answer was lost (the broker went away mid-commit) may have landed:
        // doing the batch again would publish its output twice.
        if (committing && await this.committedThrough(batch.partition) >= next) {
          log.info("stage.commit_had_landed", { stage: o.name, partition: batch.partition, next });
          this.stats.processed += good.length;
          this.stats.deadLettered += dead.length;
          return;
        }
        committing = false;
        wait = Math.min(wait * 2, max);
      }
    }
  }
}

/**
 * onSkipped for a stage that reads a transactional topic, keeps nothing between batches
 * and commits with plain commits: nothing waits behind a skipped fetch, so commit past
 * it at once. Not for a stage that commits inside its own transactions (enrichment): a
 * plain commit landing after a later transaction's would move its offset back.
 */
export function commitPastSkipped(stage: string): NonNullable<SubscribeOptions["onSkipped"]> {
  return (_partition, next, commit) => {
    commit(next).catch((err) => log.debug("stage.skip_commit_failed", { stage, error: String(err) }));
  };
}

function deadLetter(stage: string, message: IncomingMessage, err: unknown): OutgoingMessage {
  return {
    key: message.key,
    value: message.value,
    headers: {
      "x-stage": stage,
      "x-error": (err instanceof Error ? err.message : String(err)).slice(0, 500),
      "x-source": `${message.topic}/${message.partition}/${message.offset}`,
    },
  };
}

/** Resolves after `ms`, or at once when the signal aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(t);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}
