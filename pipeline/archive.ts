/**
 * The archive stage: `public_alerts` → JSON Lines objects under
 * `dt=YYYY-MM-DD/hour=HH/<partition>-<firstOffset>-<lastOffset>.jsonl`.
 *
 * Records are buffered per partition and written when the buffer reaches
 * ARCHIVE_MAX_RECORDS, when the hour changes, or ARCHIVE_FLUSH_S after its first
 * record; the offset is committed only after the write. Object names come from
 * offsets, and after a restart or rewind the stage first looks for an object a previous
 * run wrote but did not get to commit, and skips what it holds. So a redelivery never
 * archives an alert twice.
 *
 * Privacy: records keep the alert and how many were notified; never user ids, not even
 * the reporter's. It reads `public_alerts`, which never carries them (see alert_outputs.ts),
 * rather than `enriched_alerts`, which is kept only while alerts can be live.
 */

import type { Archive } from "../adapters/archive/port.ts";
import type { Batch, BatchContext, Bus } from "../adapters/bus/port.ts";
import { TOPICS } from "../adapters/bus/port.ts";
import type { AlertEventRecord } from "../domain/alert_record.ts";
import { log } from "../log.ts";
import { decodeAlertEventRecord } from "./messages.ts";
import type { Decoded } from "./runner.ts";
import { Stage } from "./runner.ts";

/** One archived line: the alert or change as `public_alerts` carries it, and where it was read. */
export type ArchiveLine = AlertEventRecord & { partition: number; offset: number };

/** `dt=YYYY-MM-DD/hour=HH` of the alert's report time, in UTC. */
export function hourFolder(isoTime: string): string {
  const t = new Date(isoTime).toISOString();
  return `dt=${t.slice(0, 10)}/hour=${t.slice(11, 13)}`;
}

export function objectKey(folder: string, partition: number, first: number, last: number): string {
  return `${folder}/${partition}-${first}-${last}.jsonl`;
}

interface PendingObject {
  folder: string;
  first: number;
  last: number;
  lines: string[];
}

interface PartitionBuffer {
  objects: PendingObject[];
  count: number;
  firstBufferedAt: number;
  /** Highest offset buffered or known archived: anything at or below it is skipped. */
  handledThrough: number;
  /** Offset to commit next once nothing is buffered. */
  committedNext: number;
  /** Where the last batch handled ended: past its last message when commit markers follow it. */
  readThrough: number;
  /** After (re)assignment: a previous run may have written objects it did not commit. */
  recovering: boolean;
  ctx?: BatchContext;
  lock: Promise<void>;
}

export interface ArchiveSettings {
  flushMs: number;
  maxRecords: number;
}

/** The archive's consumer group (one for all instances: each record is archived once). */
export const ARCHIVE_GROUP = "alertcircle-archive";

export class ArchiveStage {
  readonly stage: Stage<AlertEventRecord>;
  private readonly buffers = new Map<number, PartitionBuffer>();
  private timer?: ReturnType<typeof setInterval>;
  written = 0;

  constructor(private readonly deps: { bus: Bus; archive: Archive; settings: ArchiveSettings }) {
    this.stage = new Stage<AlertEventRecord>({
      name: "archive",
      bus: deps.bus,
      groupId: ARCHIVE_GROUP,
      topic: TOPICS.publicAlerts,
      fromBeginning: true,
      commit: "manual",
      decode: decodeAlertEventRecord,
      step: (items, batch, ctx) => this.step(items, batch, ctx),
      onRevoke: (_topic, partition) => partition === undefined ? this.buffers.clear() : this.buffers.delete(partition),
      onSkipped: (partition, next, commit) => this.skipped(partition, next, commit),
    });
  }

  async start(): Promise<void> {
    await this.stage.start();
    this.timer = setInterval(() => this.flushDue(), Math.min(1_000, this.deps.settings.flushMs));
  }

  /** Writes and commits whatever is buffered now, whatever its age. */
  async flushNow(): Promise<void> {
    for (const [partition, buffer] of this.buffers) await this.locked(buffer, () => this.flush(partition, buffer));
  }

  /** Stops consuming, then writes and commits whatever is buffered. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.stage.stop();
    for (const [partition, buffer] of this.buffers) {
      await this.locked(buffer, () => this.flush(partition, buffer)).catch((err) =>
        log.error("archive.final_flush_failed", { partition, error: String(err) })
      );
    }
  }

  /** Leaves the group (after stop). */
  close(): Promise<void> {
    return this.stage.close();
  }

  get stats() {
    let buffered = 0;
    for (const b of this.buffers.values()) buffered += b.count;
    return { ...this.stage.stats, objectsWritten: this.written, buffered };
  }

  private step(items: Decoded<AlertEventRecord>[], batch: Batch, ctx: BatchContext): Promise<void> {
    const partition = batch.partition;
    let buffer = this.buffers.get(partition);
    if (!buffer) {
      const first = items[0].message.offset;
      buffer = {
        objects: [],
        count: 0,
        firstBufferedAt: 0,
        handledThrough: first - 1,
        committedNext: first,
        readThrough: first,
        recovering: true,
        lock: Promise.resolve(),
      };
      this.buffers.set(partition, buffer);
    }
    const b = buffer;
    b.ctx = ctx;
    return this.locked(b, async () => {
      // A flush that failed last time (say the object store was down) goes first.
      if (b.count >= this.deps.settings.maxRecords) await this.flush(partition, b);
      for (const { message, value } of items) {
        // The runner retries a failed step with the same items: skip what is already in.
        if (message.offset <= b.handledThrough) continue;
        const folder = hourFolder(value.kind === "update" ? value.at : value.reportedAt);
        if (b.recovering && b.count === 0 && await this.alreadyArchived(partition, folder, message.offset, b)) {
          continue;
        }
        let current = b.objects[b.objects.length - 1];
        if (!current || current.folder !== folder) {
          current = { folder, first: message.offset, last: message.offset, lines: [] };
          b.objects.push(current);
        }
        if (b.count === 0) b.firstBufferedAt = Date.now();
        const line: ArchiveLine = { ...value, partition, offset: message.offset };
        current.lines.push(JSON.stringify(line));
        current.last = message.offset;
        b.handledThrough = message.offset;
        b.count++;
        if (b.count >= this.deps.settings.maxRecords) await this.flush(partition, b);
      }
      b.readThrough = Math.max(b.readThrough, batch.nextOffset);
      // Offsets skipped as already archived by an earlier run can be committed now. On a
      // bus that does not outlive the process nothing could be delivered again after a
      // crash, so everything buffered is committed at once and the bus lets go of it.
      const safe = b.count > 0 && this.deps.bus.durable
        ? b.objects[0].first
        : Math.max(b.handledThrough + 1, b.readThrough);
      if (safe > b.committedNext) {
        await ctx.commit(safe);
        b.committedNext = safe;
      }
    });
  }

  /**
   * A fetch with nothing to archive (a transaction's markers, or an aborted one's
   * messages): committed past at once when nothing buffered waits, else by the flush.
   */
  private skipped(partition: number, next: number, commit: (next: number) => Promise<void>): void {
    const b = this.buffers.get(partition);
    const run = async () => {
      if (b) {
        b.readThrough = Math.max(b.readThrough, next);
        if (b.count > 0 || next <= b.committedNext) return;
        b.committedNext = next;
      }
      await commit(next);
    };
    (b ? this.locked(b, run) : run()).catch((err) => log.debug("archive.skip_commit_failed", { error: String(err) }));
  }

  /** Looks for an object a previous run wrote from `offset`; if found, skips through its last offset. */
  private async alreadyArchived(
    partition: number,
    folder: string,
    offset: number,
    b: PartitionBuffer,
  ): Promise<boolean> {
    const prefix = `${folder}/${partition}-${offset}-`;
    const keys = await this.deps.archive.list(prefix);
    const lasts = keys
      .map((k) => Number(k.slice(prefix.length).replace(/\.jsonl$/, "")))
      .filter((n) => Number.isSafeInteger(n) && n >= offset);
    if (lasts.length === 0) {
      b.recovering = false;
      return false;
    }
    b.handledThrough = Math.max(...lasts);
    log.info("archive.skip_already_archived", { partition, from: offset, through: b.handledThrough });
    return true;
  }

  private async flush(partition: number, b: PartitionBuffer): Promise<void> {
    if (b.count === 0 || !b.ctx) return;
    for (const o of b.objects) {
      await this.deps.archive.put(objectKey(o.folder, partition, o.first, o.last), o.lines.join("\n") + "\n");
      this.written++;
    }
    // Everything read is written now, so the commit can pass the markers after the last message.
    const next = Math.max(b.objects[b.objects.length - 1].last + 1, b.readThrough);
    b.objects = [];
    b.count = 0;
    await b.ctx.commit(next);
    b.committedNext = next;
  }

  private flushDue(): void {
    const now = Date.now();
    for (const [partition, b] of this.buffers) {
      if (b.count === 0 || now - b.firstBufferedAt < this.deps.settings.flushMs) continue;
      this.locked(b, () => this.flush(partition, b)).catch((err) =>
        log.warn("archive.flush_failed", { partition, error: String(err) })
      );
    }
  }

  /** Runs `fn` after whatever else holds this partition's buffer. */
  private locked(b: PartitionBuffer, fn: () => Promise<void>): Promise<void> {
    const run = b.lock.then(fn);
    b.lock = run.catch(() => {});
    return run;
  }
}
