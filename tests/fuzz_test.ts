/**
 * Property-based fuzzing of every endpoint (fast-check), against the real HTTP server:
 * random and malformed JSON, wrong types, huge numbers, NaN/Infinity as strings, deep
 * nesting, __proto__ keys, invalid UTF-8, oversized bodies and headers, odd paths and
 * queries, forged tokens. The property: never a 5xx, nothing polluted, the server healthy
 * afterwards. FUZZ_RUNS sets the number of cases (10,000 by default).
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import { newUser, startTestApp } from "./support/app.ts";

const RUNS = Number(Deno.env.get("FUZZ_RUNS") ?? 10_000);

const nasty = fc.constantFrom(
  "NaN",
  "Infinity",
  "-Infinity",
  "1e999",
  "-0",
  "__proto__",
  "constructor",
  "prototype",
  "<script>alert(1)</script>",
  "../../etc/passwd",
  "%00",
  "\u0000",
  "\ud800",
  "😀".repeat(300),
  "a".repeat(20_000),
  "",
  " ",
);

const numberish = fc.oneof(
  fc.double(),
  fc.integer(),
  fc.constantFrom(1e308, -1e308, Number.MAX_SAFE_INTEGER + 2, 90, -90, 180, -180, 90.0000001, 0),
  nasty,
  fc.constant(null),
  fc.boolean(),
);

/** Report- and location-shaped objects with each field possibly wrong. */
const almostValid = fc.record(
  {
    type: fc.oneof(fc.constantFrom("police", "tow_truck", "other", "POLICE"), nasty, fc.integer()),
    lat: numberish,
    lng: numberish,
    note: fc.oneof(fc.string({ maxLength: 400 }), nasty, fc.integer(), fc.array(fc.string())),
    // "$ME" becomes the fuzzing user's id, so some requests get past ownership to validation.
    reporterId: fc.oneof(fc.constant("$ME"), fc.string({ maxLength: 80 }), nasty),
    userId: fc.oneof(fc.constant("$ME"), fc.string({ maxLength: 80 }), nasty),
  },
  { requiredKeys: [] },
);

function deep(depth: number, open: string, close: string): string {
  return open.repeat(depth) + close.repeat(depth);
}

const body: fc.Arbitrary<string | Uint8Array | undefined> = fc.oneof(
  almostValid.map((o) => JSON.stringify(o)),
  fc.json(),
  fc.anything().map((v) => {
    try {
      return JSON.stringify(v) ?? "null";
    } catch {
      return "{}";
    }
  }),
  fc.string(),
  fc.integer({ min: 1, max: 6_000 }).map((d) => deep(d, "[", "]")),
  fc.integer({ min: 1, max: 3_000 }).map((d) => deep(d, '{"a":', "}").replace(/}+$/, (m) => "1" + m)),
  fc.constantFrom(
    '{"__proto__":{"polluted":true},"type":"police","lat":1,"lng":1}',
    '{"constructor":{"prototype":{"polluted":true}}}',
    '{"lat":NaN,"lng":Infinity}',
    '{"lat":1e999}',
    "{",
    "nul",
    '{"type":"police","lat":1,"lng":1,"reporterId":"x","note":"\\u0000"}',
  ),
  fc.uint8Array({ maxLength: 2_000 }).map((b) => new Uint8Array(b)), // often invalid UTF-8
  fc.integer({ min: 16_000, max: 40_000 }).map((n) => JSON.stringify({ note: "x".repeat(n) })),
  fc.constant(undefined),
);

export interface FuzzRequest {
  method: string;
  path: string;
  contentType?: string;
  auth: "none" | "valid" | "forged" | "junk" | "huge";
  extraHeader?: [string, string];
  body?: string | Uint8Array;
}

const segment = fc.oneof(fc.string({ maxLength: 40 }), nasty, fc.constantFrom("sim-00001", "u-abc", "$ME"))
  .map((s) => encodeURIComponent(s.toWellFormed()));
const queryValue = fc.oneof(fc.string({ maxLength: 60 }), nasty, fc.constantFrom("1,2,3,4", "-91,0,91,0", "0", "5001"))
  .map((s) => encodeURIComponent(s.toWellFormed()));

const anyPath = fc.oneof(
  fc.constantFrom(
    "/api/reports",
    "/api/locations",
    "/api/users",
    "/api/users/me",
    "/api/alerts",
    "/api/stats",
    "/healthz",
    "/readyz",
    "/",
  ),
  segment.map((s) => `/api/locations/${s}`),
  segment.map((s) => `/api/alerts/${s}`),
  segment.map((s) => `/api/alerts/${s}/gone`),
  segment.map((s) => `/api/users/${s}/notifications`),
  segment.map((s) => `/static/${s}`),
  fc.constantFrom("/api/..%2f..%2fetc", "/%2e%2e/", "/static/../deno.json", "/api//reports", "/api/reports/"),
);

/** Mostly real endpoints with their own methods (so validation is what gets fuzzed), some anything. */
const target: fc.Arbitrary<{ method: string; path: string }> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.constantFrom("/api/reports", "/api/locations", "/api/users").map((path) => ({
      method: "POST",
      path,
    })),
  },
  { weight: 2, arbitrary: segment.map((s) => ({ method: "POST", path: `/api/alerts/${s}/gone` })) },
  { weight: 2, arbitrary: segment.map((s) => ({ method: "DELETE", path: `/api/locations/${s}` })) },
  {
    weight: 3,
    arbitrary: fc.tuple(
      fc.constantFrom("/api/alerts", "/api/locations", "/api/stream"),
      fc.constantFrom("bbox", "limit", "userId", "lastEventId", "x"),
      queryValue,
    )
      .map(([p, k, v]) => ({ method: "GET", path: `${p}?${k}=${v}` })),
  },
  { weight: 2, arbitrary: segment.map((s) => ({ method: "GET", path: `/api/users/${s}/notifications` })) },
  { weight: 1, arbitrary: segment.map((s) => ({ method: "GET", path: `/api/alerts/${s}` })) },
  {
    weight: 2,
    arbitrary: fc.record({
      method: fc.constantFrom("GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"),
      path: anyPath,
    }),
  },
);

const request: fc.Arbitrary<FuzzRequest> = fc.record({
  method: fc.constant(""),
  path: fc.constant(""),
  target,
  contentType: fc.option(
    fc.constantFrom(
      "application/json",
      "application/json; charset=utf-8",
      "text/plain",
      "application/x-www-form-urlencoded",
      "application/vnd.api+json",
      "",
      "json",
    ),
    { nil: undefined, freq: 5 },
  ),
  auth: fc.constantFrom("none", "valid", "valid", "forged", "junk", "huge"),
  extraHeader: fc.option(
    fc.tuple(
      fc.constantFrom("last-event-id", "x-forwarded-for", "cookie", "x-big"),
      fc.oneof(
        fc.string({ maxLength: 100 }).map((s) => s.replace(/[\r\n\0]/g, "")),
        fc.integer({ min: 1, max: 60_000 }).map((n) => "h".repeat(n)),
      ),
    ),
    { nil: undefined },
  ),
  body,
}).map(({ target, ...rest }) => ({ ...rest, method: target.method, path: target.path }));

Deno.test({
  name:
    `fuzz: ${RUNS} random and malformed requests over every endpoint — never a 5xx, nothing polluted, healthy after`,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const t = await startTestApp();
    try {
      const user = await newUser(t.url);
      const tokens = { valid: user.token, forged: `${user.userId}.AAAA`, junk: "x.y.z", huge: "t".repeat(20_000) };
      const statuses = new Map<number, number>();
      await fc.assert(
        fc.asyncProperty(request, async (r) => {
          const headers = new Headers();
          if (r.contentType !== undefined) headers.set("content-type", r.contentType);
          if (r.auth !== "none") headers.set("authorization", `Bearer ${tokens[r.auth]}`);
          if (r.extraHeader) headers.set(r.extraHeader[0], r.extraHeader[1]);
          const hasBody = r.body !== undefined && !["GET", "HEAD"].includes(r.method);
          const me = (v: string) => v.replaceAll("$ME", user.userId).replaceAll(encodeURIComponent("$ME"), user.userId);
          let res: Response;
          try {
            res = await fetch(`${t.url}${me(r.path)}`, {
              method: r.method,
              headers,
              body: hasBody ? (typeof r.body === "string" ? me(r.body) : r.body as BodyInit) : undefined,
              signal: AbortSignal.timeout(10_000),
            });
          } catch (err) {
            // Only a header too big for the HTTP server may be refused at the connection.
            if (r.auth === "huge" || (r.extraHeader?.[1].length ?? 0) > 8_000) return;
            throw err;
          }
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          const huge = r.auth === "huge" || (r.extraHeader?.[1].length ?? 0) > 8_000;
          if (huge && (res.status === 400 || res.status === 431) && !res.headers.get("content-type")) {
            // Deno's HTTP server refuses headers over ~64 KB itself (empty 400), before the app.
            await res.body?.cancel();
          } else if (res.headers.get("content-type")?.includes("text/event-stream")) {
            await res.body?.cancel();
          } else {
            const text = await res.text();
            if (r.path.startsWith("/api/") && r.method !== "HEAD" && res.status !== 204) {
              assert.doesNotThrow(
                () => JSON.parse(text),
                `${r.method} ${r.path} answered ${res.status} non-JSON: ${text.slice(0, 100)}`,
              );
              assert.ok(!/\bat .*:\d+:\d+/.test(text), "no stack traces");
            }
          }
          assert.ok(res.status < 500, `${r.method} ${r.path} answered ${res.status}`);
          assert.equal(({} as Record<string, unknown>).polluted, undefined, "Object.prototype was polluted");
        }),
        {
          numRuns: RUNS,
          seed: Number(Deno.env.get("FUZZ_SEED") ?? Date.now() % 2 ** 31),
          // A failing case can hold a 60 KB header: report it, not all of it.
          reporter: (out) => {
            if (out.failed) {
              const c = JSON.stringify(out.counterexample).slice(0, 600);
              throw new Error(
                `fuzz failed (seed ${out.seed}, ${out.numRuns} runs): ${
                  String(out.errorInstance).slice(0, 400)
                }\ncase: ${c}`,
              );
            }
          },
        },
      );
      console.log(`statuses over ${RUNS} cases: ${JSON.stringify(Object.fromEntries([...statuses].sort()))}`);
      assert.deepEqual(await (await fetch(`${t.url}/healthz`)).json(), { status: "ok" });
      assert.equal((await fetch(`${t.url}/readyz`)).status, 200);
      const ok = await fetch(`${t.url}/api/reports`, {
        method: "POST",
        headers: { "content-type": "application/json", ...user.auth },
        body: JSON.stringify({ type: "police", lat: 32.08, lng: 34.78, reporterId: user.userId }),
      });
      assert.equal(ok.status, 202, "and it still takes reports");
      await ok.body?.cancel();
    } finally {
      await t.close();
    }
  },
});
