/** Topic set-up on a real Kafka broker: settings reach topics that already exist. */

import assert from "node:assert/strict";
import { ConfigResourceTypes, ConfigSource, Kafka, logLevel } from "kafkajs";
import { setLogLevel } from "../../log.ts";
import { realServices, uniqueName } from "../../tests/support/services.ts";
import { ensureKafkaTopics } from "./kafka_topics.ts";

setLogLevel("error");

Deno.test("kafka topics: an existing topic gets the settings asked for and keeps its other ones", async () => {
  const admin = new Kafka({ brokers: realServices().kafkaBrokers.split(","), logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  const name = `${uniqueName("topics")}.user_locations`;
  const explicit = async () => {
    const d = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: ConfigResourceTypes.TOPIC, name }],
    });
    return Object.fromEntries(
      d.resources[0].configEntries.filter((e) => e.configSource === ConfigSource.TOPIC_CONFIG).map((
        e,
      ) => [e.configName, e.configValue]),
    );
  };
  try {
    // As an older version (or an operator) left it: a week of retention, plus a setting of the operator's.
    await admin.createTopics({
      waitForLeaders: true,
      topics: [{
        topic: name,
        numPartitions: 2,
        configEntries: [{ name: "retention.ms", value: "604800000" }, { name: "min.insync.replicas", value: "1" }],
      }],
    });
    const wanted = { "retention.ms": "270000", "segment.ms": "30000" };
    await ensureKafkaTopics(admin, [{ name, partitions: 2, config: wanted }], 1);
    assert.deepEqual(await explicit(), { ...wanted, "min.insync.replicas": "1" });
    // Asking again changes nothing.
    await ensureKafkaTopics(admin, [{ name, partitions: 2, config: wanted }], 1);
    assert.deepEqual(await explicit(), { ...wanted, "min.insync.replicas": "1" });
  } finally {
    await admin.deleteTopics({ topics: [name] }).catch(() => {});
    await admin.disconnect();
  }
});
