/**
 * A minimal Redis (RESP2) client for the benchmark peers: one TCP connection, commands
 * pipelined (any number in flight, replies matched to requests in order), replies
 * parsed straight from the receive buffer. It exists so the Redis GEO peer is measured
 * without a general-purpose client's overhead, and without a dependency.
 *
 * Reply mapping: simple and bulk strings → string (UTF-8), integers → number,
 * null bulk string / null array → null, arrays → RespValue[] (nested as sent).
 * An error reply to a command rejects its promise with RespError; an error nested
 * inside an array (e.g. from EXEC) is returned as a RespError value.
 */

export class RespError extends Error {
  override name = "RespError";
}

export type RespValue = string | number | null | RespError | RespValue[];

export interface RespConnectOptions {
  hostname?: string;
  port: number;
}

interface Pending {
  resolve: (v: RespValue) => void;
  reject: (e: unknown) => void;
}

const CR = 13;
const LF = 10;
const READ_CHUNK = 64 * 1024;

/** Thrown internally when the buffer ends in the middle of a reply. */
const INCOMPLETE = Symbol("incomplete");

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** UTF-8 byte length of a string, without encoding it. */
function utf8Length(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) n += 1;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 2; // a surrogate pair: 2 UTF-16 units, 4 bytes
      i++;
    } else n += 2; // BMP (or a lone surrogate, which TextEncoder writes as U+FFFD): 3 bytes
  }
  return n;
}

/** RESP2 request: an array of bulk strings. Numbers go as their shortest round-trip text. */
function encodeCommand(args: readonly (string | number)[]): string {
  let out = `*${args.length}\r\n`;
  for (const a of args) {
    let s: string;
    if (typeof a === "number") {
      if (!Number.isFinite(a)) throw new RangeError(`resp: cannot send ${a}`);
      s = String(a);
      out += `$${s.length}\r\n${s}\r\n`;
    } else {
      s = a;
      out += `$${utf8Length(s)}\r\n${s}\r\n`;
    }
  }
  return out;
}

/**
 * Bytes → string for a bulk string. Short ASCII strings (ids, "OK") are the common case
 * and String.fromCharCode on them is several times cheaper than a TextDecoder call.
 */
function decodeText(buf: Uint8Array, start: number, end: number): string {
  const len = end - start;
  if (len <= 64) {
    let ascii = true;
    for (let i = start; i < end; i++) {
      if (buf[i] >= 0x80) {
        ascii = false;
        break;
      }
    }
    if (ascii) return String.fromCharCode.apply(null, buf.subarray(start, end) as unknown as number[]);
  }
  return decoder.decode(buf.subarray(start, end));
}

export class RespClient {
  #conn: Deno.TcpConn;
  #pending: Pending[] = [];
  #pendingHead = 0;
  /** Encoded requests not yet handed to the socket; joined and written once per tick. */
  #outbox: string[] = [];
  #flushScheduled = false;
  #writing = false;
  #buf = new Uint8Array(4 * READ_CHUNK);
  #start = 0; // first unparsed byte
  #end = 0; // one past the last received byte
  #pos = 0; // parse cursor
  #closed: Error | null = null;
  #readLoop: Promise<void>;

  private constructor(conn: Deno.TcpConn) {
    this.#conn = conn;
    // Small pipelined requests must not wait for Nagle's algorithm.
    conn.setNoDelay(true);
    this.#readLoop = this.#read();
  }

  static async connect(opts: RespConnectOptions): Promise<RespClient> {
    const conn = await Deno.connect({ hostname: opts.hostname ?? "127.0.0.1", port: opts.port, transport: "tcp" });
    return new RespClient(conn);
  }

  /** Number of commands sent whose replies have not arrived yet. */
  get inFlight(): number {
    return this.#pending.length - this.#pendingHead;
  }

  /** Sends one command; resolves with its reply. Many may be in flight at once. */
  send(args: readonly (string | number)[]): Promise<RespValue> {
    if (this.#closed) return Promise.reject(this.#closed);
    let encoded: string;
    try {
      encoded = encodeCommand(args);
    } catch (err) {
      return Promise.reject(err);
    }
    const reply = new Promise<RespValue>((resolve, reject) => this.#pending.push({ resolve, reject }));
    this.#outbox.push(encoded);
    if (!this.#flushScheduled && !this.#writing) {
      this.#flushScheduled = true;
      // Everything sent in the current synchronous run goes out in one write.
      queueMicrotask(() => this.#flush());
    }
    return reply;
  }

  /** Closes the connection; replies still outstanding reject. */
  async close(): Promise<void> {
    this.#fail(new Error("resp: connection closed"));
    try {
      this.#conn.close();
    } catch { /* already closed */ }
    await this.#readLoop;
  }

  async #flush(): Promise<void> {
    this.#flushScheduled = false;
    if (this.#writing) return;
    this.#writing = true;
    try {
      while (this.#outbox.length > 0 && !this.#closed) {
        const bytes = encoder.encode(this.#outbox.length === 1 ? this.#outbox[0] : this.#outbox.join(""));
        this.#outbox = [];
        let off = 0;
        while (off < bytes.length) off += await this.#conn.write(bytes.subarray(off));
      }
    } catch (err) {
      this.#fail(err instanceof Error ? err : new Error(String(err)));
    } finally {
      this.#writing = false;
    }
  }

  #fail(err: Error): void {
    if (this.#closed) return;
    this.#closed = err;
    const waiting = this.#pending.slice(this.#pendingHead);
    this.#pending = [];
    this.#pendingHead = 0;
    this.#outbox = [];
    for (const p of waiting) p.reject(err);
  }

  async #read(): Promise<void> {
    try {
      while (!this.#closed) {
        this.#makeRoom();
        const n = await this.#conn.read(this.#buf.subarray(this.#end));
        if (n === null) {
          this.#fail(new Error("resp: server closed the connection"));
          break;
        }
        this.#end += n;
        this.#parseAvailable();
      }
    } catch (err) {
      this.#fail(err instanceof Error ? err : new Error(String(err)));
    }
  }

  /** Keeps at least READ_CHUNK free at the end: slide unparsed bytes down, or grow. */
  #makeRoom(): void {
    if (this.#buf.length - this.#end >= READ_CHUNK) return;
    const unparsed = this.#end - this.#start;
    if (unparsed + READ_CHUNK <= this.#buf.length / 2) {
      this.#buf.copyWithin(0, this.#start, this.#end);
    } else {
      const bigger = new Uint8Array(Math.max(this.#buf.length * 2, unparsed + READ_CHUNK));
      bigger.set(this.#buf.subarray(this.#start, this.#end));
      this.#buf = bigger;
    }
    this.#start = 0;
    this.#end = unparsed;
  }

  #parseAvailable(): void {
    while (this.#start < this.#end) {
      this.#pos = this.#start;
      let value: RespValue;
      try {
        value = this.#parseValue();
      } catch (err) {
        if (err === INCOMPLETE) return; // wait for more bytes, then re-parse this reply
        this.#fail(err instanceof Error ? err : new Error(String(err)));
        return;
      }
      this.#start = this.#pos;
      const p = this.#pending[this.#pendingHead];
      if (!p) {
        this.#fail(new Error("resp: reply without a request"));
        return;
      }
      this.#pending[this.#pendingHead++] = undefined as unknown as Pending;
      // Drop the consumed head now and then, rather than shift() per reply.
      if (this.#pendingHead >= 1024 && this.#pendingHead * 2 >= this.#pending.length) {
        this.#pending = this.#pending.slice(this.#pendingHead);
        this.#pendingHead = 0;
      }
      if (value instanceof RespError) p.reject(value);
      else p.resolve(value);
    }
  }

  /** Index of the CR ending the line that starts at #pos. */
  #lineEnd(): number {
    const buf = this.#buf;
    for (let i = this.#pos; i + 1 < this.#end; i++) {
      if (buf[i] === CR && buf[i + 1] === LF) return i;
    }
    throw INCOMPLETE;
  }

  /** Signed decimal integer from #pos up to the line end; advances past CRLF. */
  #parseInteger(): number {
    const end = this.#lineEnd();
    const buf = this.#buf;
    let i = this.#pos;
    let negative = false;
    if (buf[i] === 0x2d) {
      negative = true;
      i++;
    }
    if (i === end) throw new Error("resp: empty integer");
    let n = 0;
    for (; i < end; i++) {
      const d = buf[i] - 0x30;
      if (d < 0 || d > 9) throw new Error("resp: bad integer");
      n = n * 10 + d;
    }
    this.#pos = end + 2;
    return negative ? -n : n;
  }

  #parseValue(): RespValue {
    if (this.#pos >= this.#end) throw INCOMPLETE;
    const type = this.#buf[this.#pos++];
    switch (type) {
      case 0x2b: { // '+' simple string
        const end = this.#lineEnd();
        const s = decodeText(this.#buf, this.#pos, end);
        this.#pos = end + 2;
        return s;
      }
      case 0x2d: { // '-' error
        const end = this.#lineEnd();
        const s = decoder.decode(this.#buf.subarray(this.#pos, end));
        this.#pos = end + 2;
        return new RespError(s);
      }
      case 0x3a: // ':' integer
        return this.#parseInteger();
      case 0x24: { // '$' bulk string
        const len = this.#parseInteger();
        if (len < 0) return null;
        const start = this.#pos;
        if (start + len + 2 > this.#end) throw INCOMPLETE;
        this.#pos = start + len + 2;
        return decodeText(this.#buf, start, start + len);
      }
      case 0x2a: { // '*' array
        const len = this.#parseInteger();
        if (len < 0) return null;
        const items = new Array<RespValue>(len);
        for (let i = 0; i < len; i++) items[i] = this.#parseValue();
        return items;
      }
      default:
        throw new Error(`resp: unexpected reply type byte 0x${type.toString(16)}`);
    }
  }
}

/**
 * Resolves when the RESP server on 127.0.0.1:`port` answers PING with `expected`. A
 * listener that accepts but never answers (someone else's server) fails after 2 s.
 */
export async function pingResp(port: number, expected: RespValue): Promise<void> {
  const client = await RespClient.connect({ port });
  const timer = setTimeout(() => client.close(), 2_000);
  try {
    const reply = await client.send(["PING"]);
    if (reply !== expected) throw new Error(`PING answered ${JSON.stringify(reply)}`);
  } finally {
    clearTimeout(timer);
    await client.close();
  }
}
