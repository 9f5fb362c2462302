/**
 * One suite for the store port, run against the embedded store and against MongoDB's
 * wire protocol (FerretDB, as `deno task test` provides it): both must give the same
 * answers.
 */

import assert from "node:assert/strict";
import { MongoClient } from "mongodb";
import type { EnrichedAlert } from "../../domain/alert.ts";
import { destination, distanceM } from "../../domain/geo.ts";
import { realServices, uniqueName } from "../../tests/support/services.ts";
import { seededRandom } from "../../tests/support/random.ts";
import { MemoryStore } from "./memory.ts";
import { COLLECTIONS, MongoStore } from "./mongo.ts";
import type { Store } from "./port.ts";

const TLV = { lat: 32.0853, lng: 34.7818 };
const TTL_MS = 300_000;
const NOW = Date.now();

interface Impl {
  name: string;
  open(): Promise<{ store: Store; cleanup(): Promise<void> }>;
}

const impls: Impl[] = [
  {
    name: "memory",
    open: () => Promise.resolve({ store: new MemoryStore(TTL_MS), cleanup: () => Promise.resolve() }),
  },
  {
    name: "mongo (FerretDB)",
    async open() {
      const uri = realServices().mongoUri;
      const database = uniqueName("store").replace(/[^A-Za-z0-9_]/g, "_");
      const store = await MongoStore.open({ uri, database }, { locationS: TTL_MS / 1000, alertS: 600 });
      return {
        store,
        async cleanup() {
          await store.close();
          const c = new MongoClient(uri);
          await c.db(database).dropDatabase().finally(() => c.close());
        },
      };
    },
  },
];

function alert(
  id: string,
  at: { lat: number; lng: number },
  notified: string[],
  reportedAt = NOW,
  ttlMs = 600_000,
): EnrichedAlert {
  return {
    id,
    type: "tow_truck",
    ...at,
    note: "n",
    reporterId: "reporter",
    reportedAt: new Date(reportedAt).toISOString(),
    source: "api",
    radiusM: 500,
    notifiedUserIds: notified,
    distancesM: notified.map((_, i) => 100 + i),
    notifiedCount: notified.length,
    enrichedAt: new Date(reportedAt).toISOString(),
    expiresAt: new Date(reportedAt + ttlMs).toISOString(),
  };
}

for (const impl of impls) {
  Deno.test(`store contract [${impl.name}]: near() equals brute force, fresh only, exact at 499/501 m`, async () => {
    const { store, cleanup } = await impl.open();
    try {
      const random = seededRandom(5);
      const users = Array.from({ length: 400 }, (_, i) => ({
        userId: `u${i}`,
        ...destination(TLV, random() * 360, 1_200 * Math.sqrt(random())),
        seenAt: NOW - random() * 400_000,
      }));
      users.push({ userId: "in", ...destination(TLV, 33, 499), seenAt: NOW });
      users.push({ userId: "out", ...destination(TLV, 33, 501), seenAt: NOW });
      await store.locations.upsertMany(users);
      for (let q = 0; q < 10; q++) {
        const at = q === 0 ? TLV : destination(TLV, random() * 360, 600 * random());
        const got = await store.locations.near(at.lat, at.lng, 500, NOW);
        const expected = users.filter((u) => u.seenAt >= NOW - TTL_MS && distanceM(at, u) <= 500).map((u) => u.userId)
          .sort();
        assert.deepEqual([...got.userIds].sort(), expected);
        for (let i = 0; i < got.userIds.length; i++) {
          const u = users.find((x) => x.userId === got.userIds[i])!;
          assert.ok(Math.abs(got.distancesM[i] - distanceM(at, u)) <= 0.5);
        }
        if (q === 0) assert.ok(got.userIds.includes("in") && !got.userIds.includes("out"));
      }
      assert.equal(await store.locations.countActive(NOW), users.filter((u) => u.seenAt >= NOW - TTL_MS).length);
    } finally {
      await cleanup();
    }
  });

  Deno.test(`store contract [${impl.name}]: newer wins, remove forgets, active() honours the box, sweep reclaims`, async () => {
    const { store, cleanup } = await impl.open();
    try {
      const far = destination(TLV, 90, 5_000);
      await store.locations.upsertMany([{ userId: "a", ...TLV, seenAt: NOW }]);
      await store.locations.upsertMany([{ userId: "a", ...far, seenAt: NOW - 1_000 }]); // older: ignored
      assert.ok(distanceM((await store.locations.get("a", NOW))!, TLV) < 0.01);
      await store.locations.upsertMany([{ userId: "a", ...far, seenAt: NOW + 1_000 }]);
      assert.ok(distanceM((await store.locations.get("a", NOW))!, far) < 0.01);
      // A stale update in the middle of a batch must not cost the updates after it.
      await store.locations.upsertMany([
        { userId: "a", ...TLV, seenAt: NOW - 5_000 },
        { userId: "later1", ...TLV, seenAt: NOW },
        { userId: "later2", ...TLV, seenAt: NOW },
      ]);
      assert.ok(await store.locations.get("later1", NOW) && await store.locations.get("later2", NOW));
      assert.ok(distanceM((await store.locations.get("a", NOW))!, far) < 0.01);
      await store.locations.remove("later1");
      await store.locations.remove("later2");
      await store.locations.upsertMany([
        { userId: "b", ...TLV, seenAt: NOW },
        { userId: "old", ...TLV, seenAt: NOW - TTL_MS - 1 },
      ]);
      assert.equal(await store.locations.get("old", NOW), undefined, "expired locations are invisible at once");
      const box = { south: TLV.lat - 0.01, west: TLV.lng - 0.01, north: TLV.lat + 0.01, east: TLV.lng + 0.01 };
      assert.deepEqual((await store.locations.active(NOW, { bbox: box, limit: 10 })).map((u) => u.userId), ["b"]);
      assert.equal((await store.locations.active(NOW, { limit: 1 })).length, 1);
      assert.equal(await store.locations.remove("b"), true);
      assert.equal(await store.locations.remove("b"), false);
      assert.equal(await store.locations.get("b", NOW), undefined);
      assert.equal(await store.locations.sweep(NOW), 1);
    } finally {
      await cleanup();
    }
  });

  Deno.test(`store contract [${impl.name}]: alerts are written once, expire on read, feed each notified user`, async () => {
    const { store, cleanup } = await impl.open();
    try {
      const a1 = alert("a1", TLV, ["ann", "bob"], NOW - 2_000);
      const a2 = alert("a2", destination(TLV, 0, 50_000), ["ann"], NOW - 1_000);
      const gone = alert("gone", TLV, ["ann"], NOW - 700_000);
      await store.alerts.upsert([a1, a2, gone]);
      await store.alerts.upsert([{ ...a1, notifiedCount: 99 }]); // a redelivery changes nothing
      assert.equal((await store.alerts.get("a1", NOW))?.notifiedCount, 2);
      assert.equal(await store.alerts.get("gone", NOW), undefined);
      const live = await store.alerts.live(NOW, { limit: 10 });
      assert.deepEqual(live.map((a) => a.id), ["a2", "a1"], "newest first, expired left out");
      assert.ok(!JSON.stringify(live).includes("ann"), "no user ids in public alerts");
      const box = { south: TLV.lat - 0.1, west: TLV.lng - 0.1, north: TLV.lat + 0.1, east: TLV.lng + 0.1 };
      assert.deepEqual((await store.alerts.live(NOW, { bbox: box, limit: 10 })).map((a) => a.id), ["a1"]);
      const feed = await store.alerts.notificationsFor("ann", NOW, 10);
      assert.deepEqual(feed.map((n) => [n.alert.id, n.distanceM]), [["a2", 100], ["a1", 100]]);
      assert.deepEqual((await store.alerts.notificationsFor("bob", NOW, 10)).map((n) => n.distanceM), [101]);
      assert.deepEqual(await store.alerts.notificationsFor("nobody", NOW, 10), []);
      // An SSE resume asks for everything reported since a time, not the newest page.
      assert.deepEqual((await store.alerts.notificationsFor("ann", NOW, 10, NOW - 1_500)).map((n) => n.alert.id), [
        "a2",
      ]);
      assert.deepEqual((await store.alerts.notificationsFor("ann", NOW, 10, NOW - 1_000)).map((n) => n.alert.id), [
        "a2",
      ]);
      assert.deepEqual(await store.alerts.notificationsFor("ann", NOW, 10, NOW - 999), []);
      assert.equal(await store.alerts.sweep(NOW), 1);
    } finally {
      await cleanup();
    }
  });

  Deno.test(`store contract [${impl.name}]: hundreds of users move in one call (the minute job's shape)`, async () => {
    const { store, cleanup } = await impl.open();
    try {
      const at = (t: number) =>
        Array.from(
          { length: 300 },
          (_, i) => ({ userId: `m${i}`, ...destination(TLV, i, 10 + i + (t === NOW ? 5 : 0)), seenAt: t }),
        );
      await store.locations.upsertMany(at(NOW - 60_000));
      await store.locations.upsertMany(at(NOW)); // every one an update now
      assert.equal(await store.locations.countActive(NOW), 300);
      const m7 = (await store.locations.get("m7", NOW))!;
      assert.equal(m7.seenAt, NOW);
      assert.ok(Math.abs(distanceM(m7, TLV) - 22) < 0.01, "the newer position won");
    } finally {
      await cleanup();
    }
  });

  Deno.test(`store contract [${impl.name}]: a lease has one holder until it expires`, async () => {
    const { store, cleanup } = await impl.open();
    try {
      assert.equal(await store.leases.tryAcquire("job", "i1", 10_000, NOW), true);
      assert.equal(await store.leases.tryAcquire("job", "i2", 10_000, NOW + 1), false);
      assert.equal(await store.leases.tryAcquire("job", "i1", 10_000, NOW + 2), true, "the holder renews");
      assert.equal(await store.leases.tryAcquire("job", "i2", 10_000, NOW + 10_003), true, "expired: another takes it");
      await store.leases.release("job", "i1"); // not the holder: no effect
      assert.equal(await store.leases.tryAcquire("job", "i1", 10_000, NOW + 10_004), false);
      await store.leases.release("job", "i2");
      assert.equal(await store.leases.tryAcquire("job", "i1", 10_000, NOW + 10_005), true);
    } finally {
      await cleanup();
    }
  });
}

Deno.test("mongo store: collections and indexes exist, and creating them again is harmless", async () => {
  const uri = realServices().mongoUri;
  const database = uniqueName("schema").replace(/[^A-Za-z0-9_]/g, "_");
  const first = await MongoStore.open({ uri, database }, { locationS: 300, alertS: 600 });
  const second = await MongoStore.open({ uri, database }, { locationS: 300, alertS: 600 });
  try {
    assert.deepEqual(second.schema?.created, []);
    const names = async (c: string) => (await first.db.collection(c).listIndexes().toArray()).map((i) => i.name);
    assert.ok((await names(COLLECTIONS.locations)).includes("cell_seenAt"));
    assert.ok((await names(COLLECTIONS.alerts)).includes("notified_reportedAt"));
    assert.equal((await first.health()).ok, true);
  } finally {
    await first.db.dropDatabase();
    await Promise.all([first.close(), second.close()]);
  }
});
