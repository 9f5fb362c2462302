/**
 * The message bus port: named, partitioned, append-only topics with consumer groups
 * and committed offsets — Kafka's model, which the embedded bus copies so that the
 * pipeline behaves the same on both and offsets can name archive objects.
 */

export const TOPICS = {
  rawAlerts: "raw_alerts",
  /** Alerts with who was told and how far they were: kept only while alerts can be live. */
  enrichedAlerts: "enriched_alerts",
  /** The same alerts and changes without any user's id or distance: what the archive keeps. */
  publicAlerts: "public_alerts",
  /** Latest location per user, keyed by user id, for every instance's proximity index. */
  userLocations: "user_locations",
  deadLetters: "alerts_dlq",
} as const;

export interface OutgoingMessage {
  /** Partitioning key: equal keys land on one partition, in order. */
  key: string | null;
  /** JSON text; null is a tombstone (e.g. "forget this user"). */
  value: string | null;
  headers?: Record<string, string>;
  /**
   * The value before serialization, when the producer has it. The embedded bus hands it
   * to consumers as is, so in-process stages skip parsing and re-validating what our own
   * code just produced; Kafka ignores it. Consumers must treat it as read-only.
   */
  object?: unknown;
}

/**
 * A message carrying `object` as JSON. The text is made only when a bus reads `value`
 * (Kafka does; the embedded bus hands the object over and never does), so in one
 * process a 25 KB enriched alert is never serialized at all. `payload` is what goes on
 * the wire when it differs from the object consumers get in-process.
 */
export function jsonMessage(key: string | null, object: unknown, payload: unknown = object): OutgoingMessage {
  let text: string | undefined;
  return {
    key,
    object,
    get value() {
      return text ??= JSON.stringify(payload);
    },
  };
}

export interface IncomingMessage {
  topic: string;
  partition: number;
  offset: number;
  key: string | null;
  value: string | null;
  headers: Record<string, string>;
  /** Epoch milliseconds the message was appended. */
  timestamp: number;
  /** The producer's own object for `value`, only on the embedded bus (see OutgoingMessage). */
  object?: unknown;
}

export interface Batch {
  topic: string;
  partition: number;
  messages: IncomingMessage[];
  /**
   * The offset after the last record this batch covers. With Kafka that can be past the
   * last message: a transaction's commit marker or an aborted message takes an offset
   * too, and a group that commits only up to its last message never reaches the end of
   * a transactional topic (its lag would read 1 per partition for ever).
   */
  nextOffset: number;
}

export interface PartitionProgress {
  partition: number;
  /** The offset the next message appended will get. */
  end: number;
  /** The group's committed offset (where it resumes); the oldest kept offset when it has none. */
  committed: number;
  /** The oldest offset still kept. */
  start: number;
}

/** A group's lag: offsets appended that it has not committed. */
export function lagOf(progress: PartitionProgress[]): number {
  return progress.reduce((sum, p) => sum + Math.max(0, p.end - p.committed), 0);
}

export interface TopicMessages {
  topic: string;
  messages: OutgoingMessage[];
}

export interface BatchContext {
  /** Commits `nextOffset` (one past the last processed message) for this batch's partition. */
  commit(nextOffset: number): Promise<void>;
  /**
   * Publishes the stage's output and commits its input in one step: both happen or
   * neither (with Kafka, one transaction), so a crash between them cannot duplicate
   * the output.
   */
  publishAndCommit(outputs: TopicMessages[], nextOffset: number): Promise<void>;
  /** Tells the group this consumer is alive during long work (a step being retried). */
  heartbeat(): Promise<void>;
  /** Aborted when the subscription stops; long handlers should give up early. */
  signal: AbortSignal;
  /**
   * True once this batch belongs to a consumer run that has ended (the bus restarted its
   * consumer, or the partition moved): another run will deliver it again, so a handler
   * retrying it should give up rather than keep the partition waiting.
   */
  stale?(): boolean;
}

export interface SubscribeOptions {
  groupId: string;
  topic: string;
  /** Where a group with no committed offset starts: the oldest message, or only new ones. */
  fromBeginning: boolean;
  /**
   * Processes one batch of one partition. With `autoCommit` (the default) the offset
   * after the batch is committed when this resolves; a throw commits nothing and the
   * batch is delivered again.
   */
  handleBatch(batch: Batch, ctx: BatchContext): Promise<void>;
  autoCommit?: boolean;
  /**
   * Also see messages of transactions not yet committed (Kafka's read_uncommitted). Only
   * for consumers that tolerate seeing a message again with the same content: the live
   * push, which drops repeats by alert id, reads enrichment's output without waiting for
   * its transaction to commit.
   */
  readUncommitted?: boolean;
  /**
   * Called when a fetch brought nothing to hand over (only a transaction's markers, or an
   * aborted transaction's messages), after the partition's earlier batches were handled,
   * with the offset after it and a commit for that partition. A consumer that is done
   * with everything before should commit it: otherwise a partition whose newest records
   * are an aborted transaction never shows the group caught up.
   */
  onSkipped?(partition: number, nextOffset: number, commit: (nextOffset: number) => Promise<void>): void;
  /**
   * Called when this consumer loses a partition or is rewound to its committed offset
   * (rebalance, failed batch): unflushed state for it must be dropped, as those messages
   * will be delivered again. No partition means all of them. Not called on a graceful stop.
   */
  onRevoke?(topic: string, partition?: number): void;
}

export interface Subscription {
  /** Stops fetching and waits for the batch in flight; commits through its context still work. */
  stop(): Promise<void>;
  /** Leaves the group; call after stop() and any final commits. */
  close(): Promise<void>;
}

export interface TopicSpec {
  name: string;
  partitions?: number;
  /** Extra topic configuration, e.g. { "retention.ms": "300000" }. */
  config?: Record<string, string>;
}

export interface Bus {
  readonly kind: "memory" | "kafka";
  /**
   * Whether messages outlive this process (Kafka: yes; the embedded bus: no). Only then
   * can a stage that buffers (the archive) be handed its uncommitted messages again after
   * a crash; without it, holding them uncommitted only keeps them in memory.
   */
  readonly durable: boolean;
  ensureTopics(topics: TopicSpec[]): Promise<void>;
  /** Resolves once the messages are durable (with Kafka: acknowledged by the brokers). */
  publish(topic: string, messages: OutgoingMessage[]): Promise<void>;
  subscribe(options: SubscribeOptions): Promise<Subscription>;
  /** Offsets on the topic the group has not committed yet (its consumer lag). */
  pending(groupId: string, topic: string): Promise<number>;
  /** Per partition, the topic's end and the group's committed offset. */
  progress(groupId: string, topic: string): Promise<PartitionProgress[]>;
  /**
   * Deletes the messages the group has committed, for a topic that group alone reads:
   * what it has consumed is not kept for the topic's retention. Returns how many went.
   */
  deleteConsumed(groupId: string, topic: string): Promise<number>;
  /** Whether the bus can take messages right now, and why not. */
  health(): { ok: boolean; detail: string };
  close(): Promise<void>;
}
