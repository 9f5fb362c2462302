import assert from "node:assert/strict";
import { newUser, postJson, startTestApp } from "../../tests/support/app.ts";
import type { TestApp, TestUser } from "../../tests/support/app.ts";

const place = { type: "parking_inspector", lat: 32.0853, lng: 34.7818, note: "by the park" };

async function expectFields(res: Response, status: number, fields: string[]) {
  assert.equal(res.status, status);
  assert.match(res.headers.get("content-type") ?? "", /application\/json/);
  const body = await res.json();
  assert.equal(typeof body.message, "string");
  assert.deepEqual(body.fields.map((f: { field: string }) => f.field).sort(), [...fields].sort());
  for (const f of body.fields) assert.ok(f.reason.length > 0);
  assert.ok(!JSON.stringify(body).includes("    at "), "no stack traces");
}

async function withApp(fn: (t: TestApp, user: TestUser) => Promise<void>) {
  const t = await startTestApp();
  try {
    await fn(t, await newUser(t.url));
  } finally {
    await t.close();
  }
}

Deno.test("POST /api/reports: a valid report is accepted with a server-given UUIDv7 id", () =>
  withApp(async ({ url }, me) => {
    const res = await postJson(`${url}/api/reports`, { ...place, reporterId: me.userId }, me.auth);
    assert.equal(res.status, 202);
    const body = await res.json();
    assert.match(body.id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.ok(Date.parse(body.reportedAt) <= Date.now());
    assert.equal(res.headers.get("location"), `/api/alerts/${body.id}`);
  }));

Deno.test("POST /api/reports: each bad field is named with its reason", () =>
  withApp(async ({ url }, me) => {
    const valid = { ...place, reporterId: me.userId };
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
    for (const [body, fields] of cases) {
      await expectFields(await postJson(`${url}/api/reports`, body, me.auth), 400, fields);
    }
  }));

Deno.test("POST /api/reports: a 280-character note (emoji counted once) is fine", () =>
  withApp(async ({ url }, me) => {
    const res = await postJson(
      `${url}/api/reports`,
      { ...place, reporterId: me.userId, note: "🚓".repeat(280) },
      me.auth,
    );
    assert.equal(res.status, 202);
  }));

Deno.test("POST /api/reports: not JSON, not an object, too big, wrong content type", () =>
  withApp(async ({ url }, me) => {
    await expectFields(await postJson(`${url}/api/reports`, "{oops", me.auth), 400, ["body"]);
    await expectFields(await postJson(`${url}/api/reports`, "[1,2]", me.auth), 400, ["body"]);
    await expectFields(await postJson(`${url}/api/reports`, "null", me.auth), 400, ["body"]);
    const big = JSON.stringify({ ...place, reporterId: me.userId, note: "x".repeat(17 * 1024) });
    await expectFields(await postJson(`${url}/api/reports`, big, me.auth), 413, ["body"]);
    const text = await fetch(`${url}/api/reports`, {
      method: "POST",
      headers: { "content-type": "text/plain", ...me.auth },
      body: JSON.stringify({ ...place, reporterId: me.userId }),
    });
    await expectFields(text, 415, ["content-type"]);
    const none = await fetch(`${url}/api/reports`, { method: "POST", headers: me.auth, body: "{}" });
    assert.equal(none.status, 415);
    await none.body?.cancel();
  }));

Deno.test("POST /api/reports: 401 without a valid token, 403 reporting as someone else", () =>
  withApp(async ({ url }, me) => {
    const anonymous = await postJson(`${url}/api/reports`, { ...place, reporterId: me.userId });
    assert.equal(anonymous.status, 401);
    assert.match(anonymous.headers.get("www-authenticate") ?? "", /Bearer/);
    await anonymous.body?.cancel();
    const forged = await postJson(`${url}/api/reports`, { ...place, reporterId: me.userId }, {
      authorization: `Bearer ${me.userId}.forged-signature`,
    });
    assert.equal(forged.status, 401);
    await forged.body?.cancel();
    const other = await newUser(url);
    const impersonating = await postJson(`${url}/api/reports`, { ...place, reporterId: other.userId }, me.auth);
    assert.equal(impersonating.status, 403);
    assert.equal((await impersonating.json()).error, "forbidden");
  }));

Deno.test("POST /api/locations and DELETE /api/locations/:userId: validated, and only one's own", () =>
  withApp(async ({ url }, me) => {
    await expectFields(await postJson(`${url}/api/locations`, { userId: "u 1", lat: 95, lng: 0 }, me.auth), 400, [
      "userId",
      "lat",
    ]);
    await expectFields(await postJson(`${url}/api/locations`, { userId: me.userId, lat: 0 }, me.auth), 400, ["lng"]);
    const ok = await postJson(`${url}/api/locations`, { userId: me.userId, lat: 32.08, lng: 34.78 }, me.auth);
    assert.equal(ok.status, 200);
    assert.equal((await ok.json()).userId, me.userId);
    const other = await newUser(url);
    const theirs = await postJson(`${url}/api/locations`, { userId: other.userId, lat: 32.08, lng: 34.78 }, me.auth);
    assert.equal(theirs.status, 403);
    await theirs.body?.cancel();
    const bad = await fetch(`${url}/api/locations/${encodeURIComponent("bad id!")}`, {
      method: "DELETE",
      headers: me.auth,
    });
    await expectFields(bad, 400, ["userId"]);
    const notMine = await fetch(`${url}/api/locations/${other.userId}`, { method: "DELETE", headers: me.auth });
    assert.equal(notMine.status, 403);
    await notMine.body?.cancel();
    const gone = await fetch(`${url}/api/locations/${me.userId}`, { method: "DELETE", headers: me.auth });
    assert.equal(gone.status, 204);
  }));

Deno.test("query parameters are validated and named", () =>
  withApp(async ({ url }, me) => {
    await expectFields(await fetch(`${url}/api/alerts?bbox=1,2,3`), 400, ["bbox"]);
    await expectFields(await fetch(`${url}/api/alerts?bbox=50,0,40,10`), 400, ["bbox"]);
    await expectFields(await fetch(`${url}/api/alerts?limit=0`), 400, ["limit"]);
    await expectFields(await fetch(`${url}/api/alerts?limit=abc&bbox=x`), 400, ["limit", "bbox"]);
    await expectFields(
      await fetch(`${url}/api/users/${encodeURIComponent("no good")}/notifications`, { headers: me.auth }),
      400,
      [
        "userId",
      ],
    );
    await expectFields(
      await fetch(`${url}/api/stream?userId=${encodeURIComponent("<script>")}`, { headers: me.auth }),
      400,
      [
        "userId",
      ],
    );
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
