/**
 * GET /api/stream: Server-Sent Events. Without `userId` it streams every live alert (the
 * map); with `userId=U` only U's notifications. A reconnecting client sends
 * Last-Event-ID (or `lastEventId=`) and gets what it missed: from this instance's ring
 * of recent alerts, or else from the store. Frames may repeat across a reconnect; each
 * carries the alert id, so clients drop duplicates.
 */

import { Hono } from "hono";
import type { AppContext } from "../../app/context.ts";
import { uuidv7Time } from "../../domain/ids.ts";
import { userId as userIdSchema } from "../../domain/schemas.ts";
import { alertFrame, notificationFrame } from "../../pipeline/live_hub.ts";
import type { AuthEnv } from "../auth.ts";
import { mayRead, refuseRead } from "../auth.ts";
import { invalid } from "../problem.ts";
import { SseConnection } from "../sse_connection.ts";

/** The first bytes of every stream: the reconnect delay, and a comment so headers and body flush at once. */
const HELLO = new TextEncoder().encode("retry: 2000\n: connected\n\n");

/** How far before a reconnecting client's last event a replay from the store reaches. */
const REPLAY_SLACK_MS = 30_000;

export function streamRoutes(ctx: AppContext, options: { queueFrames?: number } = {}) {
  /**
   * What a client missed since `lastEventId`, oldest first, when this instance no longer
   * remembers it (it restarted, or the client moved here from another instance). It
   * reaches REPLAY_SLACK_MS further back than the last event: alerts from different
   * partitions reach a client out of report order, so when an instance dies with frames
   * still queued, one lost there can be older than the last one the client got. The
   * client drops what it already has by id.
   */
  async function replayFromStore(lastEventId: string, userId: string | undefined): Promise<Uint8Array[]> {
    const since = uuidv7Time(lastEventId);
    if (since === undefined) return [];
    const now = Date.now();
    const after = (reportedAt: string, id: string) =>
      id !== lastEventId && Date.parse(reportedAt) >= since - REPLAY_SLACK_MS;
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

  return new Hono<AuthEnv>().get("/", async (c) => {
    const rawUser = c.req.query("userId");
    let userId: string | undefined;
    if (rawUser !== undefined) {
      const parsed = userIdSchema.safeParse(rawUser);
      if (!parsed.success) return invalid(c, [{ field: "userId", reason: parsed.error.issues[0].message }]);
      if (!mayRead(c, parsed.data, ctx.config.simulate)) return refuseRead(c, "this stream");
      userId = parsed.data;
    }
    const lastEventId = c.req.header("last-event-id") ?? c.req.query("lastEventId");
    const missed = lastEventId ? ctx.hub.replay(lastEventId, userId) ?? await replayFromStore(lastEventId, userId) : [];
    let unsubscribe = () => {};
    const connection = new SseConnection({
      queueFrames: options.queueFrames,
      first: [HELLO, ...missed],
      onClose: () => unsubscribe(),
    });
    const client = { send: (f: Uint8Array) => connection.send(f), close: () => connection.close() };
    unsubscribe = userId === undefined ? ctx.hub.subscribeAll(client) : ctx.hub.subscribeUser(userId, client);
    c.header("Content-Type", "text/event-stream");
    c.header("Cache-Control", "no-cache");
    // Tell proxies not to buffer the stream.
    c.header("X-Accel-Buffering", "no");
    return c.body(connection.stream);
  });
}
