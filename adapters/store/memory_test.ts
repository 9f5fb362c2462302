import assert from "node:assert/strict";
import type { EnrichedAlert } from "../../domain/alert.ts";
import { FEED_LENGTH, MemoryAlertStore } from "./memory.ts";

function alert(i: number, users: string[], now: number): EnrichedAlert {
  return {
    id: `a${i}`,
    type: "police",
    lat: 1,
    lng: 2,
    reporterId: "r",
    reportedAt: new Date(now).toISOString(),
    source: "api",
    radiusM: 500,
    notifiedUserIds: users,
    distancesM: users.map(() => i),
    notifiedCount: users.length,
    enrichedAt: new Date(now).toISOString(),
    expiresAt: new Date(now + 600_000).toISOString(),
  };
}

Deno.test("memory feeds keep each user's newest FEED_LENGTH notifications, newest first", async () => {
  const store = new MemoryAlertStore();
  const now = Date.now();
  for (let i = 0; i < FEED_LENGTH + 25; i++) await store.upsert([alert(i, ["u", ...(i % 2 ? ["v"] : [])], now + i)]);
  const feed = await store.notificationsFor("u", now, 1_000);
  assert.equal(feed.length, FEED_LENGTH);
  assert.equal(feed[0].alert.id, `a${FEED_LENGTH + 24}`);
  assert.equal(feed[0].distanceM, FEED_LENGTH + 24);
  assert.equal(feed[FEED_LENGTH - 1].alert.id, "a25");
  const v = await store.notificationsFor("v", now, 3);
  assert.deepEqual(v.map((n) => n.alert.id), [`a${FEED_LENGTH + 23}`, `a${FEED_LENGTH + 21}`, `a${FEED_LENGTH + 19}`]);
  // Once every alert in a feed has expired, the sweep drops the feed itself.
  assert.equal(await store.sweep(now + 700_000), FEED_LENGTH + 25);
  assert.deepEqual(await store.notificationsFor("u", now + 700_000, 10), []);
});
