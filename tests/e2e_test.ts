/**
 * End to end on the embedded default, through the real binary entry point: a location
 * and a report 300 m away become a notification on that user's SSE stream, the alert is
 * listed, the archive file appears, and SIGTERM shuts down cleanly with the archive flushed.
 */

import assert from "node:assert/strict";
import { destination } from "../domain/geo.ts";
import { newUser, placeUser, report } from "./support/app.ts";
import { startServiceProcess } from "./support/service_process.ts";
import { SseClient } from "./support/sse.ts";

const TLV = { lat: 32.0853, lng: 34.7818 };

async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function archivedLines(dataDir: string): Promise<string[]> {
  const lines: string[] = [];
  const walk = async (dir: string) => {
    for await (const e of Deno.readDir(dir)) {
      if (e.isDirectory) await walk(`${dir}/${e.name}`);
      else if (e.name.endsWith(".jsonl")) {
        lines.push(...(await Deno.readTextFile(`${dir}/${e.name}`)).trim().split("\n"));
      }
    }
  };
  await walk(`${dataDir}/archive`).catch(() => {});
  return lines;
}

Deno.test("e2e: report → 500 m enrichment → the nearby user's SSE stream, the alert list and the archive", async () => {
  const svc = await startServiceProcess({ ARCHIVE_FLUSH_S: "1" });
  try {
    const [user, reporter] = [await newUser(svc.url), await newUser(svc.url)];
    assert.equal((await placeUser(svc.url, user, destination(TLV, 120, 300))).status, 200);
    const stream = await SseClient.connect(`${svc.url}/api/stream?userId=${user.userId}`, user.auth);
    const res = await report(svc.url, reporter, { type: "bylaw_officer", ...TLV, note: "corner of the square" });
    assert.equal(res.status, 202);
    const { id } = await res.json();

    const event = await stream.waitFor((e) => e.event === "notification" && e.id === id);
    const notification = JSON.parse(event.data);
    assert.equal(notification.distanceM, 300);
    assert.equal(notification.alert.type, "bylaw_officer");
    await stream.close();

    const listed = await (await fetch(`${svc.url}/api/alerts`)).json();
    assert.ok(listed.alerts.some((a: { id: string; notifiedCount: number }) => a.id === id && a.notifiedCount === 1));
    const feed = await (await fetch(`${svc.url}/api/users/${user.userId}/notifications`, { headers: user.auth }))
      .json();
    assert.equal(feed.notifications[0].alert.id, id);

    const line = await waitFor(
      "the archive file",
      async () => (await archivedLines(svc.dataDir)).find((l) => l.includes(id)),
    );
    const record = JSON.parse(line);
    assert.equal(record.notifiedCount, 1);
    assert.ok(!line.includes(user.userId) && !line.includes(reporter.userId), "no user ids archived");
  } finally {
    assert.equal(await svc.stop("SIGTERM"), 0, svc.output());
    await Deno.remove(svc.dataDir, { recursive: true });
  }
});

Deno.test("e2e: SIGTERM drains the pipeline and flushes the archive before exiting", async () => {
  const svc = await startServiceProcess({ ARCHIVE_FLUSH_S: "3600" });
  const reporter = await newUser(svc.url);
  const ids: string[] = [];
  for (let i = 0; i < 20; i++) {
    // 400 m apart: none repeats another (a repeat would join the first alert).
    const res = await report(svc.url, reporter, { type: "police", ...destination(TLV, 0, i * 400) });
    ids.push((await res.json()).id);
  }
  assert.equal(await svc.stop("SIGTERM"), 0, svc.output());
  assert.match(svc.output(), /app\.stopped/);
  const archived = (await archivedLines(svc.dataDir)).map((l) => JSON.parse(l).id).sort();
  assert.deepEqual(archived, [...ids].sort(), "every accepted report archived exactly once");
  await Deno.remove(svc.dataDir, { recursive: true });
});

Deno.test("e2e: a bad setting stops start-up with a message naming the variable", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "main.ts"],
    cwd: new URL("../", import.meta.url),
    env: { PORT: "eighty", SIMULATE: "off", DATA_DIR: Deno.makeTempDirSync() },
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 2);
  assert.match(new TextDecoder().decode(out.stderr), /PORT: expected a whole number, got "eighty"/);
});
