/**
 * GET /api/stream: Server-Sent Events. Without `userId` it streams every live alert (the
 * map); with `userId=U` only U's notifications. A reconnecting client sends
 * Last-Event-ID (or `lastEventId=`) and gets what it missed: from this instance's ring
 * of recent alerts, or else from the store. Frames may repeat across a reconnect; each
 * carries the alert id, so clients drop duplicates.
 */

import { Hono } from "hono";
import { streamSSE } from "hono/streaming";
import type { AppContext } from "../../app/context.ts";
import { uuidv7Time } from "../../domain/ids.ts";
import { userId as userIdSchema } from "../../domain/schemas.ts";
import { FrameQueue } from "../../pipeline/frame_queue.ts";
import { alertFrame, notificationFrame } from "../../pipeline/live_hub.ts";
import type { AuthEnv } from "../auth.ts";
import { mayRead, refuseRead } from "../auth.ts";
import { invalid } from "../problem.ts";

const HEARTBEAT_MS = 15_000;
const encoder = new TextEncoder();

export function streamRoutes(ctx: AppContext, options: { heartbeatMs?: number; queueFrames?: number } = {}) {
  const heartbeatMs = options.heartbeatMs ?? HEARTBEAT_MS;

  /** What a client missed since `lastEventId`, oldest first, when this instance no longer remembers it. */
  async function replayFromStore(lastEventId: string, userId: string | undefined): Promise<Uint8Array[]> {
    const since = uuidv7Time(lastEventId);
    if (since === undefined) return [];
    const now = Date.now();
    const after = (reportedAt: string, id: string) => id !== lastEventId && Date.parse(reportedAt) >= since;
    if (userId === undefined) {
      const alerts = await ctx.store.alerts.live(now, { limit: 1_000 });
      return alerts.filter((a) => after(a.reportedAt, a.id)).reverse().map(alertFrame);
    }
    const notes = await ctx.store.alerts.notificationsFor(userId, now, 50);
    return notes
      .filter((n) => after(n.alert.reportedAt, n.alert.id))
      .reverse()
      .map((n) => notificationFrame(JSON.stringify(n.alert), n.alert.id, n.distanceM));
  }

  return new Hono<AuthEnv>().get("/", (c) => {
    const rawUser = c.req.query("userId");
    let userId: string | undefined;
    if (rawUser !== undefined) {
      const parsed = userIdSchema.safeParse(rawUser);
      if (!parsed.success) return invalid(c, [{ field: "userId", reason: parsed.error.issues[0].message }]);
      if (!mayRead(c, parsed.data, ctx.config.simulate)) return refuseRead(c, "this stream");
      userId = parsed.data;
    }
    const lastEventId = c.req.header("last-event-id") ?? c.req.query("lastEventId");
    // Tell proxies not to buffer the stream.
    c.header("X-Accel-Buffering", "no");
    return streamSSE(c, async (stream) => {
      const queue = new FrameQueue(options.queueFrames);
      const client = { send: (f: Uint8Array) => queue.push(f), close: () => queue.close() };
      const unsubscribe = userId === undefined ? ctx.hub.subscribeAll(client) : ctx.hub.subscribeUser(userId, client);
      stream.onAbort(() => {
        unsubscribe();
        queue.close();
      });
      try {
        await stream.write(encoder.encode(`retry: 2000\n: connected\n\n`));
        if (lastEventId) {
          const missed = ctx.hub.replay(lastEventId, userId) ?? await replayFromStore(lastEventId, userId);
          for (const frame of missed) await stream.write(frame);
        }
        while (!stream.aborted) {
          const frame = await queue.next(heartbeatMs);
          if (frame === null) break;
          if (frame === undefined) {
            await stream.write(encoder.encode(": ping\n\n"));
            continue;
          }
          const more = queue.takeAll();
          await stream.write(more.length === 0 ? frame : concat([frame, ...more]));
        }
      } finally {
        unsubscribe();
        queue.close();
      }
    });
  });
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
