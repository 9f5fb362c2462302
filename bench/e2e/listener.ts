/**
 * The receiving side of the end-to-end benchmark, in a process of its own so that
 * reading a thousand streams never slows the sender's clock: holds the map stream and
 * one stream per watched user (raw HTTP over TCP, no parser beyond what is needed), and
 * prints one line per frame that carries a benchmark note: `m|u <note> <epoch ms>`.
 *
 * Usage: deno run -A bench/e2e/listener.ts <base url> <user id>…
 */

const [base, ...users] = Deno.args;
const url = new URL(base);
const encoder = new TextEncoder();
const decoder = new TextDecoder();
const out: string[] = [];
let flushing = false;

function now(): number {
  return performance.timeOrigin + performance.now();
}

function record(kind: "m" | "u", text: string): void {
  for (const m of text.matchAll(/"note":"(b\d+)"/g)) out.push(`${kind} ${m[1]} ${now().toFixed(3)}`);
  if (!flushing && out.length > 0) {
    flushing = true;
    queueMicrotask(async () => {
      const lines = out.splice(0).join("\n") + "\n";
      await Deno.stdout.write(encoder.encode(lines));
      flushing = false;
    });
  }
}

async function hold(path: string, kind: "m" | "u"): Promise<void> {
  const conn = await Deno.connect({ hostname: url.hostname, port: Number(url.port) });
  await conn.write(encoder.encode(`GET ${path} HTTP/1.1\r\nHost: bench\r\nAccept: text/event-stream\r\n\r\n`));
  const buf = new Uint8Array(64 * 1024);
  let carry = "";
  for (;;) {
    const n = await conn.read(buf).catch(() => null);
    if (n === null) return;
    const text = carry + decoder.decode(buf.subarray(0, n), { stream: true });
    const cut = text.lastIndexOf("\n\n");
    if (cut < 0) {
      carry = text;
      continue;
    }
    record(kind, text.slice(0, cut));
    carry = text.slice(cut + 2);
  }
}

const streams = [hold("/api/stream", "m")];
for (let i = 0; i < users.length; i += 200) {
  for (const u of users.slice(i, i + 200)) streams.push(hold(`/api/stream?userId=${u}`, "u"));
  // In waves, so the server's accept queue never overflows.
  await new Promise((r) => setTimeout(r, 20));
}
console.error(`listener: holding ${users.length} user streams and the map stream`);
await Promise.all(streams);
