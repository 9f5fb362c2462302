/**
 * A bounded queue of SSE frames between the hub (which must never wait on a client) and
 * one client's writer loop (which waits on the network). When the client stops reading,
 * the queue fills and `push` says so, and the hub disconnects the client: one stalled
 * phone can never grow the server's memory.
 */

export class FrameQueue {
  private frames: Uint8Array[] = [];
  private bytes = 0;
  private waiting: ((v: Uint8Array | null | undefined) => void) | undefined;
  private closed = false;

  constructor(private readonly maxFrames = 256, private readonly maxBytes = 1 << 20) {}

  /** Adds a frame; false when the queue is full or closed. */
  push(frame: Uint8Array): boolean {
    if (this.closed) return false;
    if (this.waiting) {
      const w = this.waiting;
      this.waiting = undefined;
      w(frame);
      return true;
    }
    if (this.frames.length >= this.maxFrames || this.bytes + frame.length > this.maxBytes) return false;
    this.frames.push(frame);
    this.bytes += frame.length;
    return true;
  }

  /**
   * The next frame; `undefined` if none arrived within `timeoutMs` (time for a
   * heartbeat), `null` once closed.
   */
  next(timeoutMs: number): Promise<Uint8Array | null | undefined> {
    const frame = this.frames.shift();
    if (frame) {
      this.bytes -= frame.length;
      return Promise.resolve(frame);
    }
    if (this.closed) return Promise.resolve(null);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiting = undefined;
        resolve(undefined);
      }, timeoutMs);
      this.waiting = (v) => {
        clearTimeout(timer);
        resolve(v);
      };
    });
  }

  /** Drains what is queued without waiting (used to coalesce several frames into one write). */
  takeAll(): Uint8Array[] {
    const out = this.frames;
    this.frames = [];
    this.bytes = 0;
    return out;
  }

  close(): void {
    this.closed = true;
    const w = this.waiting;
    this.waiting = undefined;
    w?.(null);
  }

  get length(): number {
    return this.frames.length;
  }
}
