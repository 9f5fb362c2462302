/**
 * Checks that scripts/services/kafka.ts brings up a broker AlertCircle's client library
 * (kafkajs) can really use: an idempotent producer, a consumer group that commits its
 * offsets, a compacted topic and the admin calls the pipeline relies on, and that
 * `stop` leaves no process behind. Needs Java and Maven (first run fetches the jars).
 */

import assert from "node:assert/strict";
import { Kafka, logLevel, Partitioners } from "kafkajs";
import { cacheDir } from "./service.ts";
import { provision, randomClusterId, start } from "./kafka.ts";

/** Whether a process with this pid still exists and has not exited. */
function running(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return !/^\S+ \(.*\) [ZX] /s.test(stat);
  } catch {
    return false;
  }
}

Deno.test("kafka: idempotent produce, group consume with commits, compaction, clean stop", async () => {
  const cache = cacheDir();
  await provision(cache);
  const dataDir = await Deno.makeTempDir({ prefix: "alertcircle-kafka-test-" });
  const kafkaService = await start({ cacheDir: cache, dataDir, partitions: 3 });
  const pid = kafkaService.pid;
  try {
    assert.ok(running(pid), "broker process should be running after start");
    const brokers = kafkaService.env.KAFKA_BROKERS;
    assert.match(brokers, /^127\.0\.0\.1:\d+$/);

    const kafka = new Kafka({
      clientId: "kafka-test",
      brokers: [brokers],
      logLevel: logLevel.WARN,
    });
    const admin = kafka.admin();
    // kafkajs's docs pair idempotent: true with maxInFlightRequests: 1 for exactly-once
    // (batches must reach the broker in sequence order); kafkajs does not enforce it.
    const producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    // A short fetch wait keeps disconnect() from sitting out a 5 s long poll.
    const consumer = kafka.consumer({
      groupId: "kafka-test-group",
      maxWaitTimeInMs: 100,
    });
    try {
      await admin.connect();
      const created = await admin.createTopics({
        waitForLeaders: true,
        topics: [
          { topic: "alerts", numPartitions: 3 },
          {
            topic: "alert-state",
            numPartitions: 1,
            configEntries: [{ name: "cleanup.policy", value: "compact" }],
          },
        ],
      });
      assert.equal(created, true);
      const topics = await admin.listTopics();
      assert.ok(
        topics.includes("alerts") && topics.includes("alert-state"),
        String(topics),
      );

      await producer.connect();
      const messages = Array.from({ length: 30 }, (_, i) => ({
        key: `area-${i}`,
        value: JSON.stringify({ seq: i }),
      }));
      await producer.send({ topic: "alerts", acks: -1, messages });
      await producer.send({
        topic: "alert-state",
        acks: -1,
        messages: [
          { key: "alert-1", value: "open" },
          { key: "alert-1", value: "closed" },
          { key: "alert-2", value: null }, // a tombstone
        ],
      });

      const ends = await admin.fetchTopicOffsets("alerts");
      assert.equal(
        ends.reduce((sum, p) => sum + Number(p.high), 0),
        messages.length,
      );

      // Consume through the group and commit each offset by hand, as the pipeline does.
      await consumer.connect();
      await consumer.subscribe({ topics: ["alerts"], fromBeginning: true });
      const seen: number[] = [];
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`only got ${seen.length}`)),
          30_000,
        );
        consumer.run({
          autoCommit: false,
          eachMessage: async ({ topic, partition, message }) => {
            seen.push(JSON.parse(String(message.value)).seq);
            await consumer.commitOffsets([
              {
                topic,
                partition,
                offset: (BigInt(message.offset) + 1n).toString(),
              },
            ]);
            if (seen.length === messages.length) {
              clearTimeout(timer);
              resolve();
            }
          },
        }).catch(reject);
      });
      assert.deepEqual(
        [...seen].sort((a, b) => a - b),
        messages.map((_, i) => i),
      );
      await consumer.disconnect();

      // The group's committed offsets are exactly the log end offsets (kafkajs reports
      // "-1" for a partition the group never committed, i.e. an empty one).
      const [committed] = await admin.fetchOffsets({
        groupId: "kafka-test-group",
        topics: ["alerts"],
      });
      const committedByPartition = new Map(
        committed.partitions.map((p) => [p.partition, p.offset]),
      );
      for (const end of ends) {
        const expected = end.high === "0" ? "-1" : end.high;
        assert.equal(committedByPartition.get(end.partition), expected);
      }

      const config = await admin.describeConfigs({
        includeSynonyms: false,
        resources: [{
          type: 2, // TOPIC
          name: "alert-state",
          configNames: ["cleanup.policy"],
        }],
      });
      assert.equal(config.resources[0].configEntries[0].configValue, "compact");
      const [stateEnd] = await admin.fetchTopicOffsets("alert-state");
      assert.equal(stateEnd.high, "3");
    } finally {
      await consumer.disconnect().catch(() => {});
      await producer.disconnect().catch(() => {});
      await admin.disconnect().catch(() => {});
    }
  } finally {
    await kafkaService.stop();
  }
  assert.equal(running(pid), false, "broker process should be gone after stop");
  // stop() is safe to call again.
  await kafkaService.stop();
  // Only removed on success: after a failure the broker's logs in there tell why.
  await Deno.remove(dataDir, { recursive: true });
});

Deno.test("kafka: a detached broker runs in its own session and stops by pid", async () => {
  const cache = cacheDir();
  const dataDir = await Deno.makeTempDir({ prefix: "alertcircle-kafka-test-" });
  const kafkaService = await start({
    cacheDir: cache,
    dataDir,
    detached: true,
  });
  const pid = kafkaService.pid;
  try {
    // Field 6 of /proc/<pid>/stat is the session id: setsid made the JVM a session
    // leader, so a Ctrl-C or hang-up aimed at our terminal does not reach it.
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const sessionId = Number(
      stat.slice(stat.lastIndexOf(")") + 2).split(" ")[3],
    );
    assert.equal(sessionId, pid);
    const cmdline = Deno.readTextFileSync(`/proc/${pid}/cmdline`);
    assert.ok(cmdline.includes("kafka.Kafka"), "pid should be the JVM itself");
  } finally {
    await kafkaService.stop();
  }
  assert.equal(running(pid), false, "broker process should be gone after stop");
  await Deno.remove(dataDir, { recursive: true });
});

Deno.test("kafka: cluster ids are 22 base64url characters and never start with '-' (the format tool would take it for an option)", () => {
  for (let i = 0; i < 5_000; i++) {
    const id = randomClusterId();
    assert.match(id, /^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/, id);
  }
});
