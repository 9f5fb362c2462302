/**
 * The embedded bus: Kafka's model (partitioned logs, consumer groups, committed offsets,
 * redelivery after a failed batch) inside the process, so one binary runs the whole
 * pipeline with no broker. Messages are held until every active group has committed
 * past them, plus a bounded tail for groups that start later.
 */

import type {
  Batch,
  BatchContext,
  Bus,
  IncomingMessage,
  OutgoingMessage,
  PartitionProgress,
  SubscribeOptions,
  Subscription,
  TopicMessages,
  TopicSpec,
} from "./port.ts";
import { lagOf } from "./port.ts";
import { partitionFor } from "./partitioner.ts";
import { log } from "../../log.ts";

const MAX_BATCH = 500;
/**
 * Messages kept past every active group's commit, per partition, for a group that
 * subscribes late. None: all stages subscribe before anything is published, and any
 * tail kept enriched alerts (with their lists of notified users) alive long enough for
 * the garbage collector to copy them, which showed as latency spikes.
 */
const RETAINED_TAIL = 0;
const MAX_BACKOFF_MS = 5_000;

class Partition {
  base = 0;
  messages: IncomingMessage[] = [];
  private wake: (() => void)[] = [];

  get end(): number {
    return this.base + this.messages.length;
  }

  append(message: IncomingMessage): void {
    this.messages.push(message);
    const waiting = this.wake;
    this.wake = [];
    for (const w of waiting) w();
  }

  read(from: number, max: number): IncomingMessage[] {
    return this.messages.slice(from - this.base, from - this.base + max);
  }

  /** Resolves when a message is appended or the signal aborts. */
  changed(signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal.aborted) return resolve();
      const done = () => {
        signal.removeEventListener("abort", done);
        resolve();
      };
      this.wake.push(done);
      signal.addEventListener("abort", done, { once: true });
    });
  }

  trimBelow(offset: number): void {
    const drop = Math.min(offset, this.end) - this.base;
    if (drop <= 0) return;
    this.messages = this.messages.slice(drop);
    this.base += drop;
  }
}

interface Topic {
  partitions: Partition[];
  roundRobin: number;
}

interface ActiveConsumer {
  groupId: string;
  topic: string;
}

export class MemoryBus implements Bus {
  readonly kind = "memory";
  readonly durable: boolean;
  private readonly topics = new Map<string, Topic>();
  private readonly committed = new Map<string, number>();
  private readonly active = new Set<ActiveConsumer>();
  private closed = false;

  /**
   * @param options.durable claim durability anyway: tests use it to check a stage's
   *   commit discipline as it behaves on Kafka.
   */
  constructor(private readonly defaultPartitions = 6, options: { durable?: boolean } = {}) {
    this.durable = options.durable ?? false;
  }

  ensureTopics(specs: TopicSpec[]): Promise<void> {
    for (const spec of specs) this.topic(spec.name, spec.partitions);
    return Promise.resolve();
  }

  publish(topicName: string, messages: OutgoingMessage[]): Promise<void> {
    if (this.closed) return Promise.reject(new Error("bus is closed"));
    const topic = this.topic(topicName);
    const timestamp = Date.now();
    for (const m of messages) {
      const p = m.key === null
        ? topic.roundRobin++ % topic.partitions.length
        : partitionFor(m.key, topic.partitions.length);
      const partition = topic.partitions[p];
      // `value` stays unread unless someone asks (see jsonMessage).
      partition.append({
        topic: topicName,
        partition: p,
        offset: partition.end,
        key: m.key,
        get value() {
          return m.value;
        },
        headers: m.headers ?? {},
        timestamp,
        object: m.object,
      });
      this.trim(topicName, p);
    }
    return Promise.resolve();
  }

  subscribe(options: SubscribeOptions): Promise<Subscription> {
    for (const c of this.active) {
      if (c.groupId === options.groupId && c.topic === options.topic) {
        return Promise.reject(new Error(`group ${options.groupId} already consumes ${options.topic} here`));
      }
    }
    const topic = this.topic(options.topic);
    const me: ActiveConsumer = { groupId: options.groupId, topic: options.topic };
    this.active.add(me);
    const stop = new AbortController();
    const loops = topic.partitions.map((_, p) => this.consume(options, p, stop.signal));
    return Promise.resolve({
      stop: async () => {
        stop.abort();
        await Promise.all(loops);
      },
      close: async () => {
        stop.abort();
        await Promise.all(loops);
        this.active.delete(me);
      },
    });
  }

  health() {
    return this.closed ? { ok: false, detail: "closed" } : { ok: true, detail: "in-process" };
  }

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }

  async pending(groupId: string, topicName: string): Promise<number> {
    return lagOf(await this.progress(groupId, topicName));
  }

  /** This bus lets go of what every group has committed by itself, in chunks; this does it now. */
  deleteConsumed(groupId: string, topicName: string): Promise<number> {
    let deleted = 0;
    this.topic(topicName).partitions.forEach((partition, p) => {
      const before = partition.base;
      const at = this.committed.get(this.key(groupId, topicName, p)) ?? partition.base;
      this.trim(topicName, p, at);
      deleted += partition.base - before;
    });
    return Promise.resolve(deleted);
  }

  progress(groupId: string, topicName: string): Promise<PartitionProgress[]> {
    return Promise.resolve(
      this.topic(topicName).partitions.map((part, partition) => ({
        partition,
        end: part.end,
        committed: this.committed.get(this.key(groupId, topicName, partition)) ?? part.base,
        start: part.base,
      })),
    );
  }

  private async consume(options: SubscribeOptions, p: number, signal: AbortSignal): Promise<void> {
    const { groupId, topic: topicName } = options;
    const partition = this.topic(topicName).partitions[p];
    const key = this.key(groupId, topicName, p);
    const start = () => this.committed.get(key) ?? (options.fromBeginning ? partition.base : partition.end);
    let position = start();
    if (!this.committed.has(key)) this.committed.set(key, position);
    let backoff = 50;
    const commit = (next: number) => {
      if (next > (this.committed.get(key) ?? -1)) this.committed.set(key, next);
      this.trim(topicName, p);
      return Promise.resolve();
    };
    const ctx: BatchContext = {
      signal,
      commit,
      heartbeat: () => Promise.resolve(),
      // In one process publish and commit cannot be torn apart: nothing runs in between.
      publishAndCommit: async (outputs: TopicMessages[], next: number) => {
        for (const o of outputs) await this.publish(o.topic, o.messages);
        await commit(next);
      },
    };
    while (!signal.aborted) {
      if (position < partition.base) position = partition.base;
      if (position >= partition.end) {
        await partition.changed(signal);
        continue;
      }
      const messages = partition.read(position, MAX_BATCH);
      const batch: Batch = {
        topic: topicName,
        partition: p,
        messages,
        nextOffset: messages[messages.length - 1].offset + 1,
      };
      try {
        await options.handleBatch(batch, ctx);
        position = batch.nextOffset;
        if (options.autoCommit !== false) await ctx.commit(position);
        backoff = 50;
      } catch (err) {
        if (signal.aborted) break;
        log.warn("bus.batch_failed", {
          groupId,
          topic: topicName,
          partition: p,
          retryInMs: backoff,
          error: String(err),
        });
        // Like a Kafka rebalance: the consumer forgets unflushed work and resumes at the commit.
        options.onRevoke?.(topicName, p);
        await sleep(backoff, signal);
        backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
        position = start();
      }
    }
  }

  /** Drops what every active group has committed; with `upTo`, at once and no further than that. */
  private trim(topicName: string, p: number, upTo?: number): void {
    const partition = this.topic(topicName).partitions[p];
    let floor = upTo ?? partition.end - RETAINED_TAIL;
    for (const c of this.active) {
      if (c.topic !== topicName) continue;
      const at = this.committed.get(this.key(c.groupId, topicName, p)) ?? partition.base;
      floor = Math.min(floor, at);
    }
    // Trim in chunks: slicing the array on every message would be quadratic.
    if (floor - partition.base >= (upTo === undefined ? 16 : 1)) partition.trimBelow(floor);
  }

  private topic(name: string, partitions = this.defaultPartitions): Topic {
    let topic = this.topics.get(name);
    if (!topic) {
      topic = { partitions: Array.from({ length: partitions }, () => new Partition()), roundRobin: 0 };
      this.topics.set(name, topic);
    }
    return topic;
  }

  private key(groupId: string, topic: string, p: number): string {
    return `${groupId}\u0000${topic}\u0000${p}`;
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}
