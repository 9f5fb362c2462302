import assert from "node:assert/strict";
import type { EnrichedAlert } from "../domain/alert.ts";
import { FrameQueue } from "./frame_queue.ts";
import { LiveHub } from "./live_hub.ts";

function alert(id: string, notified: string[]): EnrichedAlert {
  return {
    id,
    type: "police",
    lat: 1,
    lng: 2,
    reporterId: "r",
    reportedAt: new Date().toISOString(),
    source: "api",
    radiusM: 500,
    notifiedUserIds: notified,
    distancesM: notified.map((_, i) => 10 * (i + 1)),
    notifiedCount: notified.length,
    enrichedAt: new Date().toISOString(),
    expiresAt: new Date(Date.now() + 600_000).toISOString(),
  };
}

const text = (f: Uint8Array) => new TextDecoder().decode(f);

Deno.test("hub: each user gets their own distance; the map gets counts; redeliveries are dropped", () => {
  const hub = new LiveHub();
  const map: string[] = [];
  const ann: string[] = [];
  hub.subscribeAll({ send: (f) => (map.push(text(f)), true), close: () => {} });
  hub.subscribeUser("ann", { send: (f) => (ann.push(text(f)), true), close: () => {} });
  hub.publish(alert("a1", ["bob", "ann"]));
  hub.publish(alert("a1", ["bob", "ann"]));
  hub.publish(alert("a2", ["bob"]));
  assert.equal(map.length, 2);
  assert.equal(ann.length, 1);
  assert.match(ann[0], /event: notification/);
  assert.match(ann[0], /"distanceM":20/);
  assert.ok(!ann[0].includes("bob") && !map.join().includes("bob"));
});

Deno.test("hub: a client whose buffer is full is dropped, the others are not held up", () => {
  const hub = new LiveHub();
  const slow = new FrameQueue(3);
  let closed = "";
  hub.subscribeAll({ send: (f) => slow.push(f), close: (why) => closed = why });
  let fast = 0;
  hub.subscribeAll({ send: () => (fast++, true), close: () => {} });
  for (let i = 0; i < 10; i++) hub.publish(alert(`x${i}`, []));
  assert.match(closed, /too slow/);
  assert.equal(fast, 10);
  assert.equal(hub.stats.dropped, 1);
  assert.equal(slow.length, 3, "the slow client's queue never grew past its bound");
});

Deno.test("frame queue: bounded by frames and bytes; next() waits, times out, and ends on close", async () => {
  const q = new FrameQueue(2, 10);
  assert.ok(q.push(new Uint8Array(4)));
  assert.ok(q.push(new Uint8Array(4)));
  assert.equal(q.push(new Uint8Array(1)), false, "frame bound");
  assert.equal((await q.next(10))!.length, 4);
  assert.equal(q.push(new Uint8Array(7)), false, "byte bound");
  assert.equal(q.takeAll().length, 1);
  assert.equal(await q.next(5), undefined, "timeout");
  const waiting = q.next(1_000);
  q.push(new Uint8Array(2));
  assert.equal((await waiting)!.length, 2);
  const ending = q.next(1_000);
  q.close();
  assert.equal(await ending, null);
  assert.equal(q.push(new Uint8Array(1)), false);
});

Deno.test("hub: map replay returns what came after an id; users' and unknown ids go to the store", () => {
  const hub = new LiveHub();
  hub.publish(alert("r1", ["ann"]));
  hub.publish(alert("r2", ["bob"]));
  hub.publish(alert("r3", ["ann"]));
  assert.deepEqual(hub.replay("r1")!.map((f) => /id: (\S+)/.exec(text(f))![1]), ["r2", "r3"]);
  assert.equal(hub.replay("r1", "ann"), undefined, "a user's stream resumes from their feed in the store");
  assert.equal(hub.replay("unknown"), undefined);
});

Deno.test("hub: an alert that ends is taken off the feeds of connected users who were told of it", () => {
  const hub = new LiveHub();
  const ann: string[] = [];
  const bob: string[] = [];
  hub.subscribeUser("ann", { send: (f) => (ann.push(text(f)), true), close: () => {} });
  hub.subscribeUser("bob", { send: (f) => (bob.push(text(f)), true), close: () => {} });
  hub.publish(alert("e1", ["ann"]));
  const at = new Date().toISOString();
  hub.publishChange(
    {
      id: "e1",
      type: "police",
      lat: 1,
      lng: 2,
      reportedAt: at,
      expiresAt: at,
      radiusM: 500,
      notifiedCount: 1,
      confirmations: 0,
      endedAt: at,
    },
    { kind: "update", id: "e1:ended", alertId: "e1", lat: 1, lng: 2, at, expiresAt: at, ended: true },
  );
  assert.equal(ann.length, 2);
  assert.match(ann[1], /event: ended/);
  assert.equal(bob.length, 0);
});
