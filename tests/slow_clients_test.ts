/**
 * Stalled SSE clients: connections that ask for the stream and then never read. Each
 * client's buffer is bounded, so when one cannot keep up the server drops it; the
 * others get everything, and the server's memory stays flat.
 */

import assert from "node:assert/strict";
import type { EnrichedAlert } from "../domain/alert.ts";
import { startTestApp } from "./support/app.ts";

/** Reads a stream and counts alert frames without keeping them (so this test's own memory stays small). */
async function countingReader(url: string) {
  const res = await fetch(url);
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let count = 0;
  let carry = "";
  let last = "";
  const done = (async () => {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      const text = carry + decoder.decode(value, { stream: true });
      // Count complete frames only; the unfinished tail waits for the next chunk.
      const cut = text.lastIndexOf("\n\n");
      if (cut < 0) {
        carry = text;
        continue;
      }
      for (const m of text.slice(0, cut).matchAll(/id: (slow-\d+)\n/g)) {
        count++;
        last = m[1];
      }
      carry = text.slice(cut + 2);
    }
  })();
  return {
    get count() {
      return count;
    },
    get last() {
      return last;
    },
    async close() {
      await reader.cancel();
      await done.catch(() => {});
    },
  };
}

function syntheticAlert(i: number): EnrichedAlert {
  const now = Date.now();
  return {
    id: `slow-${i}`,
    type: "police",
    lat: 32.08,
    lng: 34.78,
    note: "n".repeat(280),
    reporterId: "r",
    reportedAt: new Date(now).toISOString(),
    source: "api",
    radiusM: 500,
    notifiedUserIds: [],
    distancesM: [],
    notifiedCount: 0,
    enrichedAt: new Date(now).toISOString(),
    expiresAt: new Date(now + 600_000).toISOString(),
  };
}

Deno.test({
  name: "slow clients: stalled streams are dropped at their bound; others get everything; memory stays flat",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const t = await startTestApp();
    const port = Number(new URL(t.url).port);
    const hub = t.app.ctx.hub;
    const healthy = await countingReader(`${t.url}/api/stream`);
    let published = 0;
    /** 50 connections that never read, then 20,000 ~800-byte frames offered to every client. */
    async function round(): Promise<void> {
      const stalled: Deno.TcpConn[] = [];
      for (let i = 0; i < 50; i++) {
        const conn = await Deno.connect({ hostname: "127.0.0.1", port });
        await conn.write(
          new TextEncoder().encode("GET /api/stream HTTP/1.1\r\nHost: test\r\nAccept: text/event-stream\r\n\r\n"),
        );
        stalled.push(conn); // …and never read from it again
      }
      for (let waited = 0; hub.stats.mapClients < 51 && waited < 5_000; waited += 20) {
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.equal(hub.stats.mapClients, 51);
      for (let i = 0; i < 20_000; i++) {
        hub.publish(syntheticAlert(published++));
        if (i % 200 === 0) await new Promise((r) => setTimeout(r, 1)); // let the writers run
      }
      for (let waited = 0; healthy.last !== `slow-${published - 1}` && waited < 20_000; waited += 20) {
        await new Promise((r) => setTimeout(r, 20));
      }
      for (const c of stalled) {
        try {
          c.close();
        } catch { /* closed by the server already */ }
      }
    }
    /** JS heap and buffers actually kept (after a collection when the run exposes gc). */
    const kept = async () => {
      await new Promise((r) => setTimeout(r, 100));
      (globalThis as { gc?: () => void }).gc?.();
      const m = Deno.memoryUsage();
      return { held: m.heapUsed + m.external, rss: m.rss };
    };
    try {
      const m0 = await kept();
      await round();
      const m1 = await kept();
      assert.equal(hub.stats.dropped, 50, "every stalled client was dropped");
      await round();
      const m2 = await kept();
      assert.equal(hub.stats.dropped, 100);
      assert.equal(hub.stats.mapClients, 1, "only the healthy client is left");
      assert.equal(healthy.count, published, "the healthy client got every alert");
      const mb = (n: number) => (n / 1e6).toFixed(0);
      console.log(
        `kept heap+buffers: ${mb(m0.held)} → ${mb(m1.held)} → ${mb(m2.held)} MB; RSS ${mb(m0.rss)} → ${mb(m1.rss)} → ${
          mb(m2.rss)
        } MB`,
      );
      // Unbounded buffers would keep 50 × 20,000 × ~800 B = 800 MB per round.
      assert.ok(m1.held - m0.held < 60e6, `round 1 kept ${mb(m1.held - m0.held)} MB`);
      assert.ok(m2.held - m1.held < 30e6, `round 2 kept ${mb(m2.held - m1.held)} MB more: memory is not flat`);
    } finally {
      await healthy.close();
      await t.close();
    }
  },
});
