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
import { log } from "../../log.ts";
import { invalid } from "../problem.ts";
import { SseConnection } from "../sse_connection.ts";

/** The first bytes of every stream: the reconnect delay, and a comment so headers and body flush at once. */
const HELLO = new TextEncoder().encode("retry: 2000\n: connected\n\n");

/** How far before a reconnecting client's last event a replay from the store reaches. */
const REPLAY_SLACK_MS = 30_000;
/** The most frames one replay sends (a bound on the work one reconnect can cause). */
const REPLAY_MAX = 1_000;
/**
 * How long a replay from the store waits for the store to hold every alert enriched
 * before the client came back (the sink's partitions move within Kafka's 10 s session
 * timeout after a crash; a store that is merely slow gets the rest of the time).
 */
const CATCH_UP_TIMEOUT_MS = 60_000;

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
      const alerts = await ctx.store.alerts.live(now, { limit: REPLAY_MAX });
      return alerts.filter((a) => after(a.reportedAt, a.id)).reverse().map(alertFrame);
    }
    // Everything since then, not the newest few: after a crash the replay waits for the
    // store, and by then more notifications than a feed page may have come after the gap.
    const notes = await ctx.store.alerts.notificationsFor(userId, now, REPLAY_MAX, since - REPLAY_SLACK_MS);
    return notes
      .filter((n) => after(n.alert.reportedAt, n.alert.id))
      .reverse()
      .map((n) => notificationFrame(JSON.stringify(n.alert), n.alert.id, n.distanceM));
  }

  /**
   * Sends a resumed client what it missed, from the store, once the store holds every
   * alert enriched before the client came back. Until then the store can lack one: the
   * sink runs behind `enriched_alerts`, and after a crash its partitions are still moving
   * to the survivors, while the frame the client never got died with the crashed
   * instance. The client is already subscribed meanwhile, so nothing enriched after it
   * came back waits for this; the replayed frames can follow newer ones (the dashboard
   * orders its feed by report time and drops repeats by id).
   */
  async function replayWhenStored(connection: SseConnection, lastEventId: string, userId: string | undefined) {
    try {
      if (!await ctx.storeCatchUp.caughtUp(CATCH_UP_TIMEOUT_MS)) {
        log.warn("stream.replay_store_behind", { waitedMs: CATCH_UP_TIMEOUT_MS });
      }
      if (!connection.open) return;
      for (const frame of await replayFromStore(lastEventId, userId)) connection.send(frame);
    } catch (err) {
      log.warn("stream.replay_failed", { error: String(err) });
    }
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
    const fromRing = lastEventId ? ctx.hub.replay(lastEventId, userId) : undefined;
    let unsubscribe = () => {};
    const connection = new SseConnection({
      queueFrames: options.queueFrames,
      first: [HELLO, ...fromRing ?? []],
      onClose: () => unsubscribe(),
    });
    const client = { send: (f: Uint8Array) => connection.send(f), close: () => connection.close() };
    unsubscribe = userId === undefined ? ctx.hub.subscribeAll(client) : ctx.hub.subscribeUser(userId, client);
    if (lastEventId && !fromRing) void replayWhenStored(connection, lastEventId, userId);
    c.header("Content-Type", "text/event-stream");
    c.header("Cache-Control", "no-cache");
    // Tell proxies not to buffer the stream.
    c.header("X-Accel-Buffering", "no");
    return c.body(connection.stream);
  });
}
