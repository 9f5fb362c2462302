/**
 * One Server-Sent Events response as a pull-driven byte stream. The hub hands frames to
 * `send`; when the HTTP server is ready for more (it pulls as the socket drains) they go
 * straight through, otherwise they wait in a small bounded queue. A client that stops
 * reading fills it, `send` says so, and the hub drops the client. No timer, writer loop
 * or intermediate stream per connection: at 10,000 connections that is what decides
 * memory and fan-out time (see the benchmarks).
 */

import { FrameQueue } from "../pipeline/frame_queue.ts";

export class SseConnection {
  readonly stream: ReadableStream<Uint8Array>;
  private controller?: ReadableStreamDefaultController<Uint8Array>;
  private readonly queue: FrameQueue;
  /** The HTTP server asked for data and got none yet. */
  private wanted = false;
  private closed = false;

  constructor(options: { queueFrames?: number; onClose: () => void; first?: Uint8Array[] }) {
    this.queue = new FrameQueue(options.queueFrames);
    for (const f of options.first ?? []) this.queue.push(f);
    this.stream = new ReadableStream<Uint8Array>({
      start: (controller) => {
        this.controller = controller;
      },
      pull: () => {
        const waiting = this.queue.takeAll();
        if (waiting.length > 0) this.controller!.enqueue(concat(waiting));
        else this.wanted = true;
      },
      cancel: () => {
        this.closed = true;
        this.queue.close();
        options.onClose();
      },
    }, { highWaterMark: 0 });
  }

  /** Whether the client is still there to send to. */
  get open(): boolean {
    return !this.closed;
  }

  /** Offers a frame; false when the client is gone or too far behind (its queue is full). */
  send(frame: Uint8Array): boolean {
    if (this.closed) return false;
    if (this.wanted) {
      this.wanted = false;
      this.controller!.enqueue(frame);
      return true;
    }
    return this.queue.push(frame);
  }

  /** Ends the response (shutdown, or the hub dropped a slow client). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.queue.close();
    try {
      this.controller?.close();
    } catch { /* already closed or errored */ }
  }
}

function concat(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
