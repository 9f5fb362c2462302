/**
 * Real-server test for scripts/services/ferretdb.ts: builds FerretDB (cached after
 * the first run, which takes a few minutes), starts it, round-trips a document
 * through the `mongodb` driver and checks that stopping really ends the process.
 */

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { MongoClient } from "mongodb";
import { cacheDir } from "./service.ts";
import { FERRETDB_VERSION, provision, start } from "./ferretdb.ts";

function processExists(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return stat.charAt(stat.lastIndexOf(")") + 2) !== "Z";
  } catch {
    return false;
  }
}

Deno.test("ferretdb: provision, start, round-trip, stop", async () => {
  await provision(cacheDir());
  const dataDir = await Deno.makeTempDir({ prefix: "ferretdb-test-" });
  const server = await start({ cacheDir: cacheDir(), dataDir });
  try {
    assert.equal(server.name, "ferretdb");
    assert.match(server.env.MONGODB_URI, /^mongodb:\/\/127\.0\.0\.1:\d+\/$/);
    assert.ok(processExists(server.pid));

    const client = new MongoClient(server.env.MONGODB_URI);
    try {
      const alerts = client.db("alertcircle_test").collection("alerts");
      const seenAt = new Date("2024-05-01T12:00:00Z");
      await alerts.insertOne({ _id: "a1" as never, cell: 42, seenAt });
      const doc = await alerts.findOne({ cell: 42 });
      assert.deepEqual(doc, { _id: "a1", cell: 42, seenAt });

      // The server must say which release it is, so a client can tell it is FerretDB.
      const info = await client.db("admin").command({ buildInfo: 1 });
      assert.equal(info.ferretdbVersion, `v${FERRETDB_VERSION}`);
    } finally {
      await client.close();
    }
  } finally {
    await server.stop();
  }
  assert.equal(processExists(server.pid), false);
  await Deno.remove(dataDir, { recursive: true });
});

Deno.test("ferretdb: a detached server outlives the process that started it", async () => {
  await provision(cacheDir());
  const dataDir = await Deno.makeTempDir({ prefix: "ferretdb-detached-" });
  const moduleUrl = new URL("./ferretdb.ts", import.meta.url).href;
  const script = `
    const { start } = await import(${JSON.stringify(moduleUrl)});
    const s = await start({ cacheDir: ${JSON.stringify(cacheDir())}, dataDir: ${
    JSON.stringify(dataDir)
  }, detached: true });
    console.log(JSON.stringify({ pid: s.pid, uri: s.env.MONGODB_URI }));
  `;
  const parent = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--quiet", script],
    cwd: fileURLToPath(new URL("../..", import.meta.url)),
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(parent.success, new TextDecoder().decode(parent.stderr));
  const lines = new TextDecoder().decode(parent.stdout).trim().split("\n");
  const { pid, uri } = JSON.parse(lines[lines.length - 1]) as {
    pid: number;
    uri: string;
  };

  try {
    // The parent has exited; the server must still answer, from its own session.
    assert.ok(processExists(pid));
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const sessionId = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[3]);
    assert.equal(sessionId, pid);
    const client = new MongoClient(uri);
    try {
      const res = await client.db("admin").command({ ping: 1 });
      assert.equal(res.ok, 1);
    } finally {
      await client.close();
    }
  } finally {
    // What `services:down` does: stop it by pid alone.
    Deno.kill(pid, "SIGTERM");
    const deadline = Date.now() + 10_000;
    while (processExists(pid) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  assert.equal(processExists(pid), false);
  await Deno.remove(dataDir, { recursive: true });
});
