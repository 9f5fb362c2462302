import assert from "node:assert/strict";
import { MemoryStore } from "../../adapters/store/memory.ts";
import { destination } from "../../domain/geo.ts";
import { newUser, placeUser, report, startTestApp } from "../../tests/support/app.ts";
import { SseClient } from "../../tests/support/sse.ts";

const TLV = { lat: 32.0853, lng: 34.7818 };

Deno.test("SSE: a user's stream carries only their notifications; the map stream carries no user ids", async () => {
  const t = await startTestApp();
  try {
    const [alice, bob, carol] = [await newUser(t.url), await newUser(t.url), await newUser(t.url)];
    await placeUser(t.url, alice, destination(TLV, 0, 300));
    await placeUser(t.url, bob, destination(TLV, 0, 3_000));
    const aliceStream = await SseClient.connect(`${t.url}/api/stream?userId=${alice.userId}`, alice.auth);
    const bobStream = await SseClient.connect(`${t.url}/api/stream?userId=${bob.userId}`, bob.auth);
    const map = await SseClient.connect(`${t.url}/api/stream`);
    assert.equal(aliceStream.status, 200);
    const { id } = await (await report(t.url, carol, { type: "tow_truck", ...TLV, note: "<img src=x>" })).json();
    const n = await aliceStream.waitFor((e) => e.event === "notification" && e.id === id);
    const body = JSON.parse(n.data);
    assert.equal(body.distanceM, 300);
    assert.equal(body.alert.note, "<img src=x>", "notes travel as data; the page renders them as text");
    for (const u of [alice, carol]) assert.ok(!n.data.includes(u.userId), "no user ids in a user's frame");
    const a = await map.waitFor((e) => e.event === "alert" && e.id === id);
    assert.equal(JSON.parse(a.data).notifiedCount, 1);
    for (const u of [alice, carol]) assert.ok(!a.data.includes(u.userId), "no user ids on the map stream");
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(bobStream.events.length, 0, "bob is 3 km away");
    await Promise.all([aliceStream.close(), bobStream.close(), map.close()]);
  } finally {
    await t.close();
  }
});

Deno.test("SSE: one's own stream takes one's token: 401 without, 403 with another's", async () => {
  const t = await startTestApp();
  try {
    const [alice, mallory] = [await newUser(t.url), await newUser(t.url)];
    const none = await fetch(`${t.url}/api/stream?userId=${alice.userId}`);
    assert.equal(none.status, 401);
    await none.body?.cancel();
    const other = await fetch(`${t.url}/api/stream?userId=${alice.userId}`, { headers: mallory.auth });
    assert.equal(other.status, 403);
    await other.body?.cancel();
    const feed = await fetch(`${t.url}/api/users/${alice.userId}/notifications`, { headers: mallory.auth });
    assert.equal(feed.status, 403);
    await feed.body?.cancel();
    // The dashboard's cookie works as well as the header.
    const cookie = await fetch(`${t.url}/api/users/${alice.userId}/notifications`, {
      headers: { cookie: `ac_token=${alice.token}` },
    });
    assert.equal(cookie.status, 200);
    await cookie.body?.cancel();
  } finally {
    await t.close();
  }
});

Deno.test("SSE: a reconnecting client gets what it missed after Last-Event-ID", async () => {
  const t = await startTestApp();
  try {
    const [dana, reporter] = [await newUser(t.url), await newUser(t.url)];
    await placeUser(t.url, dana, TLV);
    const ids: string[] = [];
    const url = `${t.url}/api/stream?userId=${dana.userId}`;
    const first = await SseClient.connect(url, dana.auth);
    for (let i = 0; i < 3; i++) {
      // Different types, so none repeats the one before (repeats join the first alert).
      const type = ["police", "tow_truck", "bylaw_officer"][i];
      ids.push((await (await report(t.url, reporter, { type, ...destination(TLV, 90, 50 * i) })).json()).id);
    }
    await first.waitFor((e) => e.id === ids[2]);
    await first.close();
    // From this instance's ring of recent alerts…
    const resumed = await SseClient.connect(url, { ...dana.auth, "Last-Event-ID": ids[0] });
    await resumed.waitFor((e) => e.id === ids[2]);
    assert.deepEqual(resumed.events.map((e) => e.id), [ids[1], ids[2]]);
    await resumed.close();
    // …and, for an id this instance never saw (another instance's), from the store by time.
    const foreign = ids[0].slice(0, 15) + "000-8000-000000000000";
    const fromStore = await SseClient.connect(url, { ...dana.auth, "Last-Event-ID": foreign });
    await fromStore.waitFor((e) => e.id === ids[2]);
    assert.ok(fromStore.events.some((e) => e.id === ids[1]));
    await fromStore.close();
    const mapResume = await SseClient.connect(`${t.url}/api/stream?lastEventId=${ids[1]}`);
    await mapResume.waitFor((e) => e.event === "alert" && e.id === ids[2]);
    await mapResume.close();
  } finally {
    await t.close();
  }
});

Deno.test("SSE: a resume waits for the store to hold what was enriched before it, and live frames do not wait", async () => {
  // The embedded store, with its alert writes held back as a sink that is behind (or
  // whose partitions are moving after a crash) would hold them.
  const store = new MemoryStore(300_000);
  let release = () => {};
  let held: Promise<void> | undefined;
  const write = store.alerts.upsert.bind(store.alerts);
  store.alerts.upsert = async (alerts) => {
    if (held) await held;
    return write(alerts);
  };
  const t = await startTestApp({}, { store });
  try {
    const [erin, reporter] = [await newUser(t.url), await newUser(t.url)];
    await placeUser(t.url, erin, TLV);
    const url = `${t.url}/api/stream?userId=${erin.userId}`;
    const first = await SseClient.connect(url, erin.auth);
    const seen = (await (await report(t.url, reporter, { type: "police", ...TLV })).json()).id;
    await first.waitFor((e) => e.id === seen);
    await first.close();
    held = new Promise((r) => release = r);
    // Made while erin was away, and not in the store yet.
    const missed = (await (await report(t.url, reporter, { type: "tow_truck", ...destination(TLV, 0, 80) })).json()).id;
    await new Promise((r) => setTimeout(r, 100));
    const resumed = await SseClient.connect(url, { ...erin.auth, "Last-Event-ID": seen });
    const live = (await (await report(t.url, reporter, { type: "bylaw_officer", ...destination(TLV, 90, 80) })).json())
      .id;
    await resumed.waitFor((e) => e.id === live);
    assert.ok(!resumed.events.some((e) => e.id === missed), "not replayed before the store has it");
    release();
    await resumed.waitFor((e) => e.id === missed);
    await resumed.close();
  } finally {
    release();
    await t.close();
  }
});

Deno.test("SSE: heartbeats keep idle streams open, and shutdown ends them", async () => {
  const t = await startTestApp({}, { http: { heartbeatMs: 50 } });
  const res = await fetch(`${t.url}/api/stream`);
  const reader = res.body!.getReader();
  let text = "";
  while (!text.includes(": ping")) text += new TextDecoder().decode((await reader.read()).value);
  assert.match(res.headers.get("content-type") ?? "", /text\/event-stream/);
  await t.close();
  for (;;) {
    const { done } = await reader.read();
    if (done) break;
  }
});
