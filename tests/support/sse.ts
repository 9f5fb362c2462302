/**
 * A Server-Sent Events client for tests: reads a real HTTP stream, parses frames, and
 * waits for the event a test expects (with a timeout, so a missing event fails fast).
 */

export interface SseEvent {
  id?: string;
  event: string;
  data: string;
  /** performance.now() when the frame was parsed. */
  receivedAt: number;
}

export class SseClient {
  readonly events: SseEvent[] = [];
  private waiters: Array<() => void> = [];
  private controller = new AbortController();
  private done: Promise<void>;
  status = 0;
  closedByServer = false;

  private constructor(private readonly response: Response) {
    this.status = response.status;
    this.done = this.pump();
  }

  static async connect(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
    const controller = new AbortController();
    const response = await fetch(url, {
      headers: { accept: "text/event-stream", ...headers },
      signal: controller.signal,
    });
    const client = new SseClient(response);
    client.controller = controller;
    return client;
  }

  private async pump(): Promise<void> {
    if (!this.response.body) return;
    const decoder = new TextDecoder();
    let buffer = "";
    try {
      for await (const chunk of this.response.body) {
        buffer += decoder.decode(chunk, { stream: true });
        let end;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const ev: SseEvent = { event: "message", data: "", receivedAt: performance.now() };
          const data: string[] = [];
          let any = false;
          for (const line of block.split("\n")) {
            if (line.startsWith(":") || line === "") continue;
            const colon = line.indexOf(":");
            const field = colon < 0 ? line : line.slice(0, colon);
            const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
            if (field === "data") data.push(value), any = true;
            else if (field === "event") ev.event = value, any = true;
            else if (field === "id") ev.id = value;
          }
          if (!any) continue;
          ev.data = data.join("\n");
          this.events.push(ev);
          for (const w of this.waiters.splice(0)) w();
        }
      }
      this.closedByServer = true;
    } catch {
      // aborted by close()
    } finally {
      for (const w of this.waiters.splice(0)) w();
    }
  }

  /** Resolves with the first event (already received or future) matching `match`. */
  async waitFor(match: (e: SseEvent) => boolean, timeoutMs = 5_000): Promise<SseEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.events.find(match);
      if (found) return found;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no matching SSE event within ${timeoutMs} ms (got ${this.events.length} events)`);
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        new Promise<void>((r) => this.waiters.push(r)),
        new Promise<void>((r) => timer = setTimeout(r, left)),
        this.done,
      ]);
      clearTimeout(timer);
      if (this.closedByServer && !this.events.find(match)) throw new Error("stream closed by the server");
    }
  }

  async close(): Promise<void> {
    this.controller.abort();
    await this.done;
  }
}
