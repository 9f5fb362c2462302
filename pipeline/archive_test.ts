import assert from "node:assert/strict";
import { LocalArchive } from "../adapters/archive/local.ts";
import type { Archive } from "../adapters/archive/port.ts";
import { MemoryBus } from "../adapters/bus/memory.ts";
import { TOPICS } from "../adapters/bus/port.ts";
import type { EnrichedAlert } from "../domain/alert.ts";
import { setLogLevel } from "../log.ts";
import { kafkaFixture } from "../tests/support/kafka_fixture.ts";
import { alertOutputs } from "./alert_outputs.ts";
import { ARCHIVE_GROUP, ArchiveStage, hourFolder, objectKey } from "./archive.ts";

setLogLevel("error");

function alert(i: number, reportedAt = "2026-12-04T15:10:00.000Z"): EnrichedAlert {
  return {
    id: `alert-${i}`,
    type: "police",
    lat: 32.08,
    lng: 34.78,
    reporterId: "reporter-secret",
    reportedAt,
    source: "api",
    radiusM: 500,
    notifiedUserIds: ["user-secret-1", "user-secret-2"],
    distancesM: [10, 20],
    notifiedCount: 2,
    enrichedAt: reportedAt,
    expiresAt: "2026-12-04T15:20:00.000Z",
  };
}

async function until(check: () => boolean | Promise<boolean>, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!await check()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function readAll(archive: Archive): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for (const key of await archive.list("")) {
    const lines = (await archive.get(key))!.trim().split("\n");
    out.set(key, lines);
  }
  return out;
}

/** As enrichment publishes them: the archive reads the public records, as JSON text. */
async function publishAlerts(bus: MemoryBus, alerts: EnrichedAlert[]) {
  const pub = alertOutputs(alerts).find((o) => o.topic === TOPICS.publicAlerts)!;
  await bus.publish(pub.topic, pub.messages.map((m) => ({ key: m.key, value: m.value })));
}

Deno.test("archive: batches by count, names objects by partition and offsets, keeps no user ids", async () => {
  const dir = await Deno.makeTempDir();
  const bus = new MemoryBus(1, { durable: true });
  const archive = new LocalArchive(dir);
  const stage = new ArchiveStage({ bus, archive, settings: { flushMs: 60_000, maxRecords: 3 } });
  await stage.start();
  await publishAlerts(bus, Array.from({ length: 7 }, (_, i) => alert(i)));
  await until(async () => (await archive.list("")).length === 2);
  assert.equal(await bus.pending("alertcircle-archive", TOPICS.publicAlerts), 1, "the 7th waits for its flush");
  await stage.stop(); // flushes the rest
  const objects = await readAll(archive);
  assert.deepEqual([...objects.keys()], [
    "dt=2026-12-04/hour=15/0-0-2.jsonl",
    "dt=2026-12-04/hour=15/0-3-5.jsonl",
    "dt=2026-12-04/hour=15/0-6-6.jsonl",
  ]);
  const text = [...objects.values()].flat().join("\n");
  assert.ok(!text.includes("secret"), "no reporter or notified user ids in the archive");
  const first = JSON.parse(objects.get("dt=2026-12-04/hour=15/0-0-2.jsonl")![0]);
  assert.equal(first.notifiedCount, 2);
  assert.equal(first.offset, 0);
  assert.equal(await bus.pending("alertcircle-archive", TOPICS.publicAlerts), 0);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("archive: a time flush writes a partial batch; an hour change starts a new object", async () => {
  const dir = await Deno.makeTempDir();
  const bus = new MemoryBus(1, { durable: true });
  const archive = new LocalArchive(dir);
  const stage = new ArchiveStage({ bus, archive, settings: { flushMs: 200, maxRecords: 100 } });
  await stage.start();
  await publishAlerts(bus, [alert(1, "2026-12-04T15:59:59.000Z"), alert(2, "2026-12-04T16:00:01.000Z")]);
  await until(async () => (await archive.list("")).length === 2, 3_000);
  assert.deepEqual(await archive.list(""), [
    "dt=2026-12-04/hour=15/0-0-0.jsonl",
    "dt=2026-12-04/hour=16/0-1-1.jsonl",
  ]);
  await stage.stop();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("archive: after a crash between upload and commit, a restart skips what is already archived", async () => {
  const dir = await Deno.makeTempDir();
  const archive = new LocalArchive(dir);
  const alerts = Array.from({ length: 5 }, (_, i) => alert(i));
  // A previous run uploaded offsets 0–2 and died before committing them.
  const folder = hourFolder(alerts[0].reportedAt);
  await archive.put(objectKey(folder, 0, 0, 2), alerts.slice(0, 3).map((a) => JSON.stringify(a)).join("\n") + "\n");
  const bus = new MemoryBus(1, { durable: true });
  await publishAlerts(bus, alerts);
  const stage = new ArchiveStage({ bus, archive, settings: { flushMs: 60_000, maxRecords: 100 } });
  await stage.start();
  await until(async () => (await bus.pending("alertcircle-archive", TOPICS.publicAlerts)) <= 2);
  await stage.stop();
  const objects = await readAll(archive);
  assert.deepEqual([...objects.keys()], [objectKey(folder, 0, 0, 2), objectKey(folder, 0, 3, 4)]);
  const ids = [...objects.values()].flat().map((l) => JSON.parse(l).id);
  assert.deepEqual(ids, alerts.map((a) => a.id), "each alert exactly once");
  await Deno.remove(dir, { recursive: true });
});

Deno.test("archive: an unavailable archive is retried and catches up without losing anything", async () => {
  const dir = await Deno.makeTempDir();
  const real = new LocalArchive(dir);
  let down = true;
  const flaky: Archive = {
    kind: "local",
    put: (k, b) => down ? Promise.reject(new Error("archive unreachable")) : real.put(k, b),
    list: (p) => down ? Promise.reject(new Error("archive unreachable")) : real.list(p),
    get: (k) => real.get(k),
    health: () => real.health(),
    close: () => real.close(),
  };
  const bus = new MemoryBus(1, { durable: true });
  const stage = new ArchiveStage({ bus, archive: flaky, settings: { flushMs: 100, maxRecords: 2 } });
  await stage.start();
  await publishAlerts(bus, Array.from({ length: 5 }, (_, i) => alert(i)));
  await new Promise((r) => setTimeout(r, 400));
  assert.equal(await bus.pending("alertcircle-archive", TOPICS.publicAlerts), 5, "nothing committed while down");
  down = false;
  await until(async () => await bus.pending("alertcircle-archive", TOPICS.publicAlerts) === 0, 10_000);
  const ids = [...(await readAll(real)).values()].flat().map((l) => JSON.parse(l).id).sort();
  assert.deepEqual(ids, ["alert-0", "alert-1", "alert-2", "alert-3", "alert-4"]);
  await stage.stop();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("archive: on a bus that does not outlive the process it commits as it buffers, and still writes everything", async () => {
  const dir = await Deno.makeTempDir();
  const bus = new MemoryBus(1); // not durable: a crash would lose the bus too
  const archive = new LocalArchive(dir);
  const stage = new ArchiveStage({ bus, archive, settings: { flushMs: 60_000, maxRecords: 100 } });
  await stage.start();
  await publishAlerts(bus, Array.from({ length: 5 }, (_, i) => alert(i)));
  await until(async () => await bus.pending("alertcircle-archive", TOPICS.publicAlerts) === 0);
  assert.deepEqual(await archive.list(""), [], "committed before the flush, nothing written yet");
  await stage.stop();
  const ids = [...(await readAll(archive)).values()].flat().map((l) => JSON.parse(l).id);
  assert.deepEqual(ids, ["alert-0", "alert-1", "alert-2", "alert-3", "alert-4"]);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("archive on Kafka: its group reaches the end past commit markers and an aborted transaction", async () => {
  const { prefix, bus, producer, close } = await kafkaFixture("archive");
  const dir = await Deno.makeTempDir();
  const archive = new LocalArchive(dir);
  const stage = new ArchiveStage({ bus, archive, settings: { flushMs: 200, maxRecords: 100 } });
  const topic = `${prefix}${TOPICS.publicAlerts}`;
  const records = (alerts: EnrichedAlert[]) =>
    alertOutputs(alerts).find((o) => o.topic === TOPICS.publicAlerts)!.messages.map((m) => ({ value: m.value }));
  const lag = () => bus.pending(ARCHIVE_GROUP, TOPICS.publicAlerts);
  try {
    await bus.ensureTopics([{ name: TOPICS.publicAlerts, partitions: 1 }]);
    // As enrichment writes them: in transactions, so each is followed by a commit marker.
    const tx = await producer.transaction();
    await tx.send({ topic, messages: records([alert(1), alert(2)]) });
    await tx.commit();
    await stage.start();
    await until(async () => (await archive.list("")).length === 1 && await lag() === 0, 15_000);
    // A crashed instance's transaction, aborted by its successor, is the partition's tail.
    const aborted = await producer.transaction();
    await aborted.send({ topic, messages: records([alert(3)]) });
    await aborted.abort();
    await until(async () => await lag() === 0, 15_000);
    const lines = [...(await readAll(archive)).values()].flat().map((l) => JSON.parse(l).id);
    assert.deepEqual(lines, ["alert-1", "alert-2"], "the aborted record is not archived");
  } finally {
    await stage.stop();
    await stage.close();
    await close();
    await Deno.remove(dir, { recursive: true });
  }
});
