import assert from "node:assert/strict";
import { destination } from "../../domain/geo.ts";
import { postJson, startTestApp } from "../../tests/support/app.ts";
import { SseClient } from "../../tests/support/sse.ts";

const TLV = { lat: 32.0853, lng: 34.7818 };

Deno.test("SSE: a user's stream carries only their notifications; the map stream carries no user ids", async () => {
  const t = await startTestApp();
  try {
    const near = destination(TLV, 0, 300);
    const far = destination(TLV, 0, 3_000);
    await postJson(`${t.url}/api/locations`, { userId: "alice", ...near });
    await postJson(`${t.url}/api/locations`, { userId: "bob", ...far });
    const alice = await SseClient.connect(`${t.url}/api/stream?userId=alice`);
    const bob = await SseClient.connect(`${t.url}/api/stream?userId=bob`);
    const map = await SseClient.connect(`${t.url}/api/stream`);
    assert.equal(alice.status, 200);
    const res = await postJson(`${t.url}/api/reports`, {
      type: "tow_truck",
      ...TLV,
      reporterId: "carol",
      note: "<img src=x>",
    });
    const { id } = await res.json();
    const n = await alice.waitFor((e) => e.event === "notification" && e.id === id);
    const body = JSON.parse(n.data);
    assert.equal(body.distanceM, 300);
    assert.equal(body.alert.note, "<img src=x>", "notes travel as data; the page renders them as text");
    assert.ok(!n.data.includes("alice") && !n.data.includes("carol"), "no user ids in a user's frame");
    const a = await map.waitFor((e) => e.event === "alert" && e.id === id);
    assert.equal(JSON.parse(a.data).notifiedCount, 1);
    assert.ok(!a.data.includes("alice") && !a.data.includes("carol"), "no user ids on the map stream");
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(bob.events.length, 0, "bob is 3 km away");
    await Promise.all([alice.close(), bob.close(), map.close()]);
  } finally {
    await t.close();
  }
});

Deno.test("SSE: a reconnecting client gets what it missed after Last-Event-ID", async () => {
  const t = await startTestApp();
  try {
    await postJson(`${t.url}/api/locations`, { userId: "dana", ...TLV });
    const ids: string[] = [];
    const first = await SseClient.connect(`${t.url}/api/stream?userId=dana`);
    for (let i = 0; i < 3; i++) {
      const r = await postJson(`${t.url}/api/reports`, {
        type: "police",
        ...destination(TLV, 90, 50 * i),
        reporterId: "x",
      });
      ids.push((await r.json()).id);
    }
    await first.waitFor((e) => e.id === ids[2]);
    await first.close();
    // From this instance's ring of recent alerts…
    const resumed = await SseClient.connect(`${t.url}/api/stream?userId=dana`, { "Last-Event-ID": ids[0] });
    await resumed.waitFor((e) => e.id === ids[2]);
    assert.deepEqual(resumed.events.map((e) => e.id), [ids[1], ids[2]]);
    await resumed.close();
    // …and, for an id this instance never saw (another instance's), from the store by time.
    const foreign = ids[0].slice(0, 15) + "000-8000-000000000000";
    const fromStore = await SseClient.connect(`${t.url}/api/stream?userId=dana`, { "Last-Event-ID": foreign });
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
