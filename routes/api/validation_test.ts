import assert from "node:assert/strict";
import { postJson, startTestApp } from "../../tests/support/app.ts";
import type { TestApp } from "../../tests/support/app.ts";

const valid = { type: "parking_inspector", lat: 32.0853, lng: 34.7818, reporterId: "u-1", note: "by the park" };

async function expectFields(res: Response, status: number, fields: string[]) {
  assert.equal(res.status, status);
  assert.match(res.headers.get("content-type") ?? "", /application\/json/);
  const body = await res.json();
  assert.equal(typeof body.message, "string");
  assert.deepEqual(body.fields.map((f: { field: string }) => f.field).sort(), [...fields].sort());
  for (const f of body.fields) assert.ok(f.reason.length > 0);
  assert.ok(!JSON.stringify(body).includes("    at "), "no stack traces");
}

async function withApp(fn: (t: TestApp) => Promise<void>) {
  const t = await startTestApp();
  try {
    await fn(t);
  } finally {
    await t.close();
  }
}

Deno.test("POST /api/reports: a valid report is accepted with a server-given UUIDv7 id", () =>
  withApp(async ({ url }) => {
    const res = await postJson(`${url}/api/reports`, valid);
    assert.equal(res.status, 202);
    const body = await res.json();
    assert.match(body.id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.ok(Date.parse(body.reportedAt) <= Date.now());
    assert.equal(res.headers.get("location"), `/api/alerts/${body.id}`);
  }));

Deno.test("POST /api/reports: each bad field is named with its reason", () =>
  withApp(async ({ url }) => {
    const cases: Array<[Record<string, unknown>, string[]]> = [
      [{ ...valid, lat: 90.0001 }, ["lat"]],
      [{ ...valid, lat: -91 }, ["lat"]],
      [{ ...valid, lng: 180.5 }, ["lng"]],
      [{ ...valid, lng: -181 }, ["lng"]],
      [{ ...valid, lat: "NaN" }, ["lat"]],
      [{ ...valid, lng: "Infinity" }, ["lng"]],
      [{ ...valid, lat: null }, ["lat"]],
      [{ ...valid, type: "unicorn" }, ["type"]],
      [{ ...valid, note: "x".repeat(281) }, ["note"]],
      [{ ...valid, note: 42 }, ["note"]],
      [{ ...valid, reporterId: undefined }, ["reporterId"]],
      [{ ...valid, reporterId: "" }, ["reporterId"]],
      [{ ...valid, reporterId: "has spaces" }, ["reporterId"]],
      [{}, ["type", "lat", "lng", "reporterId"]],
      [{ ...valid, lat: 100, lng: 200, type: "x" }, ["lat", "lng", "type"]],
    ];
    for (const [body, fields] of cases) await expectFields(await postJson(`${url}/api/reports`, body), 400, fields);
  }));

Deno.test("POST /api/reports: a 280-character note (emoji counted once) is fine", () =>
  withApp(async ({ url }) => {
    const res = await postJson(`${url}/api/reports`, { ...valid, note: "🚓".repeat(280) });
    assert.equal(res.status, 202);
  }));

Deno.test("POST /api/reports: not JSON, not an object, too big, wrong content type", () =>
  withApp(async ({ url }) => {
    await expectFields(await postJson(`${url}/api/reports`, "{oops"), 400, ["body"]);
    await expectFields(await postJson(`${url}/api/reports`, "[1,2]"), 400, ["body"]);
    await expectFields(await postJson(`${url}/api/reports`, "null"), 400, ["body"]);
    const big = JSON.stringify({ ...valid, note: "x".repeat(17 * 1024) });
    await expectFields(await postJson(`${url}/api/reports`, big), 413, ["body"]);
    const text = await fetch(`${url}/api/reports`, {
      method: "POST",
      headers: { "content-type": "text/plain" },
      body: JSON.stringify(valid),
    });
    await expectFields(text, 415, ["content-type"]);
    const none = await fetch(`${url}/api/reports`, { method: "POST", body: JSON.stringify(valid) });
    assert.equal(none.status, 415);
    await none.body?.cancel();
  }));

Deno.test("POST /api/locations and DELETE /api/locations/:userId validate like reports", () =>
  withApp(async ({ url }) => {
    await expectFields(await postJson(`${url}/api/locations`, { userId: "u 1", lat: 95, lng: 0 }), 400, [
      "userId",
      "lat",
    ]);
    await expectFields(await postJson(`${url}/api/locations`, { userId: "u1", lat: 0 }), 400, ["lng"]);
    const ok = await postJson(`${url}/api/locations`, { userId: "u1", lat: 32.08, lng: 34.78 });
    assert.equal(ok.status, 200);
    assert.equal((await ok.json()).userId, "u1");
    const bad = await fetch(`${url}/api/locations/${encodeURIComponent("bad id!")}`, { method: "DELETE" });
    await expectFields(bad, 400, ["userId"]);
    const gone = await fetch(`${url}/api/locations/u1`, { method: "DELETE" });
    assert.equal(gone.status, 204);
  }));

Deno.test("query parameters are validated and named", () =>
  withApp(async ({ url }) => {
    await expectFields(await fetch(`${url}/api/alerts?bbox=1,2,3`), 400, ["bbox"]);
    await expectFields(await fetch(`${url}/api/alerts?bbox=50,0,40,10`), 400, ["bbox"]);
    await expectFields(await fetch(`${url}/api/alerts?limit=0`), 400, ["limit"]);
    await expectFields(await fetch(`${url}/api/alerts?limit=abc&bbox=x`), 400, ["limit", "bbox"]);
    await expectFields(await fetch(`${url}/api/users/${encodeURIComponent("no good")}/notifications`), 400, ["userId"]);
    await expectFields(await fetch(`${url}/api/stream?userId=${encodeURIComponent("<script>")}`), 400, ["userId"]);
  }));

Deno.test("unknown routes and ids answer JSON 404s", () =>
  withApp(async ({ url }) => {
    const res = await fetch(`${url}/api/nope`);
    assert.equal(res.status, 404);
    assert.equal((await res.json()).error, "not_found");
    const alert = await fetch(`${url}/api/alerts/0190b0b0-0000-7000-8000-000000000000`);
    assert.equal(alert.status, 404);
    await alert.body?.cancel();
  }));

Deno.test("health and readiness", () =>
  withApp(async ({ url }) => {
    assert.deepEqual(await (await fetch(`${url}/healthz`)).json(), { status: "ok" });
    const ready = await fetch(`${url}/readyz`);
    assert.equal(ready.status, 200);
    const body = await ready.json();
    assert.equal(body.ready, true);
    assert.equal(body.bus.kind, "memory");
    assert.equal(body.store.kind, "memory");
    assert.equal(body.archive.kind, "local");
  }));
