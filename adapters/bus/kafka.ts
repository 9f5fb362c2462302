/**
 * The bus on Apache Kafka (kafkajs). Topics are set up at start (kafka_topics.ts); messages
 * are keyed (kafkajs's default partitioner is Java's murmur2, the same as the embedded
 * bus); the producer is idempotent and acknowledged by all in-sync replicas before a
 * publish resolves. A stage that publishes what it consumed does both in one Kafka
 * transaction (output + input offsets), and consumers read committed data only, so a
 * crash between the two never duplicates an enriched alert.
 *
 * kafkajs leaves the group on stop(), after which no commit is possible; a graceful
 * stop therefore pauses fetching and waits for the batch in flight, so the archive can
 * still flush and commit before close() leaves the group.
 */

import { Kafka, logLevel } from "kafkajs";
import type { Admin, Consumer, KafkaConfig, Producer, SASLOptions } from "kafkajs";
import type { Config } from "../../config.ts";
import { log } from "../../log.ts";
import { Coalescer } from "./coalescer.ts";
import { ensureKafkaTopics } from "./kafka_topics.ts";
import { PartitionGate } from "./partition_gate.ts";
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

type KafkaSettings = NonNullable<Config["kafka"]>;

/** A transactional producer (its transactions run one at a time through a Coalescer). */
interface TxSlot {
  producer: Producer;
}

interface TxRequest {
  outputs: TopicMessages[];
  tp: { topic: string; partition: number };
  next: number;
}

/** A publish the API waits on gives up after about this long, so a report gets a 503, not a hang. */
const PUBLISH_TIMEOUT_MS = 5_000;

function kafkaLogs() {
  const levels: Record<number, "error" | "warn" | "info" | "debug"> = {
    [logLevel.ERROR]: "error",
    [logLevel.WARN]: "warn",
    [logLevel.INFO]: "info",
    [logLevel.DEBUG]: "debug",
  };
  return () =>
  (
    { namespace, level, log: entry }: { namespace: string; level: number; log: { message: string; error?: string } },
  ) => {
    let l = levels[level] ?? "info";
    // CONCURRENT_TRANSACTIONS: the broker is still writing the last transaction's
    // markers; the producer retries in 20 ms (see txProducer). kafkajs logs it as an
    // error every time, which would teach operators to ignore errors.
    if (/concurrent operation on the same transaction/.test(`${entry.message} ${entry.error ?? ""}`)) l = "debug";
    // kafkajs is chatty at info (joins, rebalances); only problems are worth a line.
    if (l === "error" || l === "warn") log[l]("kafka", { namespace, message: entry.message });
  };
}

export class KafkaBus implements Bus {
  readonly kind = "kafka";
  readonly durable = true;
  private readonly kafka: Kafka;
  private producer?: Producer;
  private admin?: Admin;
  private readonly txProducers = new Map<string, Promise<TxSlot>>();
  private readonly txGroups = new Map<string, Coalescer<TxRequest>>();
  private readonly consumers = new Set<Consumer>();
  private lastError?: { message: string; at: number };
  private lastSuccess = 0;

  constructor(private readonly settings: KafkaSettings, private readonly instanceId: string) {
    const config: KafkaConfig = {
      clientId: settings.clientId,
      brokers: settings.brokers,
      ssl: settings.ssl,
      connectionTimeout: 3_000,
      requestTimeout: 10_000,
      retry: { initialRetryTime: 200, maxRetryTime: 5_000, retries: 8 },
      logLevel: logLevel.WARN,
      logCreator: kafkaLogs(),
    };
    if (settings.sasl) {
      config.sasl = {
        mechanism: settings.sasl.mechanism,
        username: settings.sasl.username,
        password: settings.sasl.password,
      } as SASLOptions;
    }
    this.kafka = new Kafka(config);
  }

  /** The cluster's name for one of our topics or groups. */
  private named(name: string): string {
    return this.settings.topicPrefix + name;
  }

  async ensureTopics(specs: TopicSpec[]): Promise<void> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      await ensureKafkaTopics(
        admin,
        specs.map((s) => ({ ...s, name: this.named(s.name), partitions: s.partitions ?? this.settings.partitions })),
        this.settings.replicationFactor,
      );
    } finally {
      await admin.disconnect();
    }
  }

  async publish(topic: string, messages: OutgoingMessage[]): Promise<void> {
    if (messages.length === 0) return;
    const producer = await this.plainProducer();
    try {
      for (const chunk of bySize(messages)) {
        await withTimeout(
          producer.send({
            topic: this.named(topic),
            acks: -1,
            timeout: PUBLISH_TIMEOUT_MS,
            messages: chunk.map(toKafka),
          }),
          PUBLISH_TIMEOUT_MS + 1_000,
          `publishing to ${topic} timed out`,
        );
      }
      this.lastSuccess = Date.now();
    } catch (err) {
      this.noteError(err);
      throw err;
    }
  }

  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    const topic = this.named(options.topic);
    const consumer = this.kafka.consumer({
      groupId: this.named(options.groupId),
      // A crashed instance's partitions move to the others after this long.
      sessionTimeout: 10_000,
      heartbeatInterval: 3_000,
      // Fetches return as soon as a message arrives (minBytes 1); a short wait only makes
      // an idle consumer poll more often, and lets disconnect() finish quickly.
      maxWaitTimeInMs: 500,
      // Read only what transactions committed (an aborted enrichment is never stored or
      // archived), unless the stage asks to see it early (the live push).
      readUncommitted: options.readUncommitted ?? false,
      retry: { initialRetryTime: 300, maxRetryTime: 10_000, retries: Number.MAX_SAFE_INTEGER },
    });
    this.consumers.add(consumer);
    const commits = new Coalescer<{ topic: string; partition: number; offset: number }>((items) => {
      const highest = new Map<number, number>();
      for (const i of items) highest.set(i.partition, Math.max(highest.get(i.partition) ?? 0, i.offset));
      return consumer.commitOffsets(
        [...highest].map(([partition, offset]) => ({ topic, partition, offset: String(offset) })),
      );
    });
    let inFlight = 0;
    let idle: (() => void) | undefined;
    const stopping = new AbortController();
    const gate = new PartitionGate();
    const commit = (partition: number, next: number) =>
      commits.submit({ topic, partition, offset: next }).then(() => gate.noteCommitted(partition, next));
    // After any (re)join kafkajs resumes every partition from its committed offset, so
    // whatever a stage buffered without committing will come again: let it drop that.
    consumer.on(consumer.events.GROUP_JOIN, () => options.onRevoke?.(options.topic));
    consumer.on(consumer.events.CRASH, (e) => this.noteError(e.payload.error));
    if (options.onSkipped) {
      // kafkajs handles a fetch with nothing to hand over itself (eachBatch is not called)
      // and reports it as a batch of size 0, after the partition's earlier batches.
      consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
        if (payload.batchSize > 0 || payload.topic !== topic || stopping.signal.aborted) return;
        options.onSkipped!(
          payload.partition,
          Number(payload.lastOffset) + 1,
          (next) => commit(payload.partition, next),
        );
      });
    }
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: options.fromBeginning });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 6,
      eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
        if (!isRunning() || isStale() || batch.messages.length === 0 || stopping.signal.aborted) return;
        inFlight++;
        const release = await gate.enter(batch.partition);
        try {
          if (!isRunning() || isStale() || stopping.signal.aborted) return;
          const nextOffset = Number(batch.lastOffset()) + 1;
          // What an earlier run of this consumer committed while this batch waited.
          const done = gate.committedThrough(batch.partition);
          const fresh = batch.messages.filter((m) => Number(m.offset) >= done);
          if (fresh.length === 0) {
            resolveOffset(String(nextOffset - 1));
            return;
          }
          const b: Batch = {
            topic: options.topic,
            partition: batch.partition,
            messages: fresh.map((m) => fromKafka(options.topic, batch.partition, m)),
            // Past any commit markers and aborted messages the fetch brought after the last message.
            nextOffset,
          };
          const tp = { topic, partition: batch.partition };
          const ctx: BatchContext = {
            signal: stopping.signal,
            stale: () => !isRunning() || isStale(),
            heartbeat,
            commit: (next) => commit(batch.partition, next),
            publishAndCommit: (outputs, next) =>
              this.transact(options.groupId, outputs, tp, next).then(() => gate.noteCommitted(batch.partition, next)),
          };
          try {
            await options.handleBatch(b, ctx);
          } catch (err) {
            // Stopping cut the batch short: it stays uncommitted and comes again after
            // the restart. Not an error worth kafkajs's "Error when calling eachBatch".
            if (stopping.signal.aborted) return;
            throw err;
          }
          if (options.autoCommit !== false) await ctx.commit(b.nextOffset);
          // Moves the fetch position on; committing stays the stage's business.
          resolveOffset(String(b.nextOffset - 1));
          this.lastSuccess = Date.now();
        } finally {
          release();
          inFlight--;
          if (inFlight === 0) idle?.();
        }
      },
    });
    return {
      stop: async () => {
        consumer.pause([{ topic }]);
        stopping.abort();
        if (inFlight > 0) await new Promise<void>((r) => idle = r);
      },
      close: async () => {
        await consumer.disconnect();
        this.consumers.delete(consumer);
      },
    };
  }

  async pending(groupId: string, topic: string): Promise<number> {
    return lagOf(await this.progress(groupId, topic));
  }

  progress(groupId: string, topic: string): Promise<PartitionProgress[]> {
    return this.withAdmin(async (admin) => {
      const [ends, committed] = await Promise.all([
        admin.fetchTopicOffsets(this.named(topic)),
        admin.fetchOffsets({ groupId: this.named(groupId), topics: [this.named(topic)] }),
      ]);
      const at = new Map(committed[0]?.partitions.map((p) => [p.partition, Number(p.offset)]) ?? []);
      return ends.map((p) => {
        const c = at.get(p.partition) ?? -1;
        return {
          partition: p.partition,
          end: Number(p.high),
          committed: c < 0 ? Number(p.low) : c,
          start: Number(p.low),
        };
      });
    });
  }

  async deleteConsumed(groupId: string, topic: string): Promise<number> {
    const done = (await this.progress(groupId, topic)).filter((p) => p.committed > p.start);
    if (done.length === 0) return 0;
    await this.withAdmin((admin) =>
      admin.deleteTopicRecords({
        topic: this.named(topic),
        partitions: done.map((p) => ({ partition: p.partition, offset: String(p.committed) })),
      })
    );
    return done.reduce((n, p) => n + p.committed - p.start, 0);
  }

  /**
   * Runs `fn` on the one admin connection kept for the frequent questions (lag, drain,
   * warm-up, the sweeper's deletes); after an error it reconnects next time rather than
   * keep a broken client.
   */
  private async withAdmin<T>(fn: (admin: Admin) => Promise<T>): Promise<T> {
    if (!this.admin) {
      const admin = this.kafka.admin();
      await admin.connect();
      this.admin = admin;
    }
    const admin = this.admin;
    try {
      return await fn(admin);
    } catch (err) {
      if (this.admin === admin) this.admin = undefined;
      await admin.disconnect().catch(() => {});
      throw err;
    }
  }

  health() {
    const recentError = this.lastError && this.lastError.at > this.lastSuccess;
    return recentError
      ? { ok: false, detail: `brokers ${this.settings.brokers.join(",")}: ${this.lastError!.message}` }
      : { ok: true, detail: `brokers ${this.settings.brokers.join(",")}` };
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.consumers].map((c) => c.disconnect()));
    await Promise.allSettled([
      this.admin?.disconnect(),
      this.producer?.disconnect(),
      ...[...this.txProducers.values()].map((t) => t.then((s) => s.producer.disconnect())),
    ]);
  }

  /**
   * Publishes the outputs and commits the group's input offset in one transaction. The
   * partitions a consumer works on at once share one transaction (group commit).
   */
  private transact(
    groupId: string,
    outputs: TopicMessages[],
    tp: { topic: string; partition: number },
    next: number,
  ): Promise<void> {
    let group = this.txGroups.get(groupId);
    if (!group) {
      group = new Coalescer<TxRequest>((items) => this.runTransaction(groupId, items));
      this.txGroups.set(groupId, group);
    }
    return group.submit({ outputs, tp, next });
  }

  private async runTransaction(groupId: string, items: TxRequest[]): Promise<void> {
    const pending = this.txProducer(groupId);
    const slot = await pending;
    const tx = await slot.producer.transaction();
    try {
      const byTopic = new Map<string, OutgoingMessage[]>();
      for (const { outputs } of items) {
        for (const o of outputs) byTopic.set(o.topic, [...(byTopic.get(o.topic) ?? []), ...o.messages]);
      }
      // One produce request per round: the i-th chunk of every topic together (an alert and
      // its public record travel in one round trip), each chunk a record batch of its own.
      const chunks = [...byTopic].map(([topic, messages]) => ({ topic: this.named(topic), parts: bySize(messages) }));
      for (let i = 0; chunks.some((c) => i < c.parts.length); i++) {
        await tx.sendBatch({
          topicMessages: chunks.filter((c) => i < c.parts.length).map((c) => ({
            topic: c.topic,
            messages: c.parts[i].map(toKafka),
          })),
        });
      }
      const offsets = new Map<string, { topic: string; partitions: Map<number, number> }>();
      for (const { tp, next } of items) {
        const entry = offsets.get(tp.topic) ?? { topic: tp.topic, partitions: new Map() };
        entry.partitions.set(tp.partition, Math.max(entry.partitions.get(tp.partition) ?? 0, next));
        offsets.set(tp.topic, entry);
      }
      await tx.sendOffsets({
        consumerGroupId: this.named(groupId),
        topics: [...offsets.values()].map((o) => ({
          topic: o.topic,
          partitions: [...o.partitions].map(([partition, offset]) => ({ partition, offset: String(offset) })),
        })),
      });
      await tx.commit();
      this.lastSuccess = Date.now();
    } catch (err) {
      this.noteError(err);
      await tx.abort().catch(() => {});
      // Start the next attempt from a fresh producer: after some errors kafkajs's
      // transactional state cannot be reused.
      if (this.txProducers.get(groupId) === pending) this.txProducers.delete(groupId);
      await slot.producer.disconnect().catch(() => {});
      throw err;
    }
  }

  private async plainProducer(): Promise<Producer> {
    if (!this.producer) {
      const producer = this.kafka.producer({
        idempotent: true,
        maxInFlightRequests: 1,
        allowAutoTopicCreation: false,
        retry: { initialRetryTime: 100, maxRetryTime: 1_000, retries: 3 },
      });
      this.producer = producer;
      try {
        await withTimeout(producer.connect(), PUBLISH_TIMEOUT_MS, "connecting to Kafka timed out");
      } catch (err) {
        this.producer = undefined;
        await producer.disconnect().catch(() => {});
        this.noteError(err);
        throw err;
      }
    }
    return this.producer;
  }

  private txProducer(groupId: string): Promise<TxSlot> {
    // The promise goes in the map at once: two partitions asking together must share one
    // producer, or the second would fence the first (same transactional id).
    let slot = this.txProducers.get(groupId);
    if (!slot) {
      const producer = this.kafka.producer({
        // One transactional id per stage and instance: a restarted instance fences its old self.
        transactionalId: this.named(`${groupId}-${this.instanceId}`),
        // A transaction left open by a crashed process holds up read-committed readers
        // until it times out (or a restart with this id fences it): keep that short.
        transactionTimeout: 10_000,
        idempotent: true,
        maxInFlightRequests: 1,
        allowAutoTopicCreation: false,
        // A transaction begun right after the last one committed is refused with
        // CONCURRENT_TRANSACTIONS until the broker has written the last one's markers,
        // a few milliseconds. The client-wide first retry (200 ms) turned that into
        // 200 ms-2 s per enrichment batch at a steady 200 reports/s; Kafka's own Java
        // client retries it after 20 ms, and so does this. The retries still span about
        // 40 s in all, longer than a broker restart: a commit whose answer was lost must
        // be retried by kafkajs until it learns the outcome — if it gave up, the stage
        // would redo a batch the broker had in fact committed, and enrich it twice.
        retry: { initialRetryTime: 20, maxRetryTime: 5_000, retries: 15 },
      });
      slot = producer.connect().then(() => ({ producer }));
      slot.catch(() => this.txProducers.delete(groupId));
      this.txProducers.set(groupId, slot);
    }
    return slot;
  }

  private noteError(err: unknown): void {
    this.lastError = { message: err instanceof Error ? err.message : String(err), at: Date.now() };
  }
}

/**
 * A send's messages for one partition travel as one record batch, and the broker
 * refuses a batch over the topic's max.message.bytes (1 MiB by default) as a whole —
 * for good: retrying the same send fails the same way. At the standard load an
 * enriched alert names ~750 users (~35 KB), so a group-committed transaction reached
 * that limit and enrichment stalled. Sends are cut to at most SEND_BYTES of payload,
 * whatever the partitioning; a single larger message goes alone (enriched_alerts, whose
 * messages can be big, allows 8 MiB: app/wiring.ts).
 */
const SEND_BYTES = 512 * 1024;

export function bySize(messages: OutgoingMessage[]): OutgoingMessage[][] {
  const chunks: OutgoingMessage[][] = [];
  let chunk: OutgoingMessage[] = [];
  let bytes = 0;
  for (const m of messages) {
    // UTF-16 length: within a factor of the UTF-8 bytes, and exact for the ASCII JSON sent here.
    const size = (m.value?.length ?? 0) + (m.key?.length ?? 0) + 64;
    if (chunk.length > 0 && bytes + size > SEND_BYTES) {
      chunks.push(chunk);
      chunk = [];
      bytes = 0;
    }
    chunk.push(m);
    bytes += size;
  }
  if (chunk.length > 0) chunks.push(chunk);
  return chunks;
}

function toKafka(m: OutgoingMessage) {
  return { key: m.key, value: m.value, headers: m.headers };
}

function fromKafka(
  topic: string,
  partition: number,
  m: { key: Buffer | null; value: Buffer | null; offset: string; timestamp: string; headers?: Record<string, unknown> },
): IncomingMessage {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(m.headers ?? {})) {
    if (v !== undefined) headers[k] = String(v);
  }
  return {
    topic,
    partition,
    offset: Number(m.offset),
    key: m.key === null ? null : m.key.toString(),
    value: m.value === null ? null : m.value.toString(),
    headers,
    timestamp: Number(m.timestamp),
  };
}

function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout>;
  return Promise.race([
    p,
    new Promise<T>((_, reject) => timer = setTimeout(() => reject(new Error(message)), ms)),
  ]).finally(() => clearTimeout(timer));
}
