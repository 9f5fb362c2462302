/**
 * Group commit: requests that arrive while one operation is running (or within a
 * millisecond of each other) are carried out together by the next single operation.
 * Kafka consumers process several partitions at once and each wants its commit or its
 * transaction; done one by one they queue behind each other (a transaction is several
 * round trips), done together they cost one.
 */

export class Coalescer<T> {
  private queue: Array<{ item: T; resolve: () => void; reject: (err: unknown) => void }> = [];
  private busy = false;

  constructor(private readonly run: (items: T[]) => Promise<void>, private readonly gatherMs = 1) {}

  /** Resolves when the operation that carried this item succeeded; rejects with its error. */
  submit(item: T): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (!this.busy) {
        this.busy = true;
        setTimeout(() => this.drain(), this.gatherMs);
      }
    });
  }

  private async drain(): Promise<void> {
    const batch = this.queue.splice(0);
    try {
      await this.run(batch.map((b) => b.item));
      for (const b of batch) b.resolve();
    } catch (err) {
      for (const b of batch) b.reject(err);
    }
    if (this.queue.length > 0) this.drain();
    else this.busy = false;
  }
}
