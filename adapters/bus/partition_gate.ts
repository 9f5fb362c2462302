/**
 * Per partition of one Kafka subscription: one batch handled at a time, across kafkajs's
 * restarts of the consumer, and how far this subscription has committed.
 *
 * Why: after a broker outage kafkajs restarts a crashed consumer, rejoins and fetches
 * again from the committed offset while the previous run's handler may still be
 * finishing that same batch (its transaction's commit waited out the outage). Both then
 * committed, and a report was enriched twice (seen in the Kafka-outage fault test).
 * The new run's batch now waits for the old one, and drops what it committed.
 */

export class PartitionGate {
  private readonly turns = new Map<number, Promise<void>>();
  private readonly committed = new Map<number, number>();

  /** Waits for the partition's earlier batches to finish; call the result when this one is done. */
  async enter(partition: number): Promise<() => void> {
    const before = this.turns.get(partition) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((r) => release = r);
    this.turns.set(partition, before.then(() => mine));
    await before;
    return release;
  }

  noteCommitted(partition: number, next: number): void {
    this.committed.set(partition, Math.max(this.committed.get(partition) ?? -1, next));
  }

  /** The offset after the last one this subscription has committed on the partition; -1 if none. */
  committedThrough(partition: number): number {
    return this.committed.get(partition) ?? -1;
  }
}
