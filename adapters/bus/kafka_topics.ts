/**
 * Kafka topic set-up at start: creates the topics that are missing, brings the
 * settings AlertCircle owns on existing ones to what the code asks (a topic made by an
 * older version, or by hand, keeps its other settings), and waits until every
 * partition has a leader. Settings matter for privacy here: `user_locations` must not
 * keep a location past its TTL, whoever created the topic.
 */

import type { Admin } from "kafkajs";
import { ConfigResourceTypes, ConfigSource } from "kafkajs";
import { log } from "../../log.ts";
import type { TopicSpec } from "./port.ts";

/**
 * Kafka deletes expired records only when it checks, every `log.retention.check.interval.ms`
 * (broker setting, 5 minutes by default): beyond this, warn that records such as
 * locations outlive their retention by that long.
 */
const RETENTION_CHECK_WARN_MS = 60_000;

export async function ensureKafkaTopics(
  admin: Admin,
  specs: Array<TopicSpec & { partitions: number }>,
  replicationFactor: number,
): Promise<void> {
  const existing = new Set(await admin.listTopics());
  const missing = specs.filter((s) => !existing.has(s.name));
  if (missing.length > 0) {
    // Another instance may create them at the same moment; "already exists" is fine.
    const created = await admin.createTopics({
      waitForLeaders: true,
      topics: missing.map((s) => ({
        topic: s.name,
        numPartitions: s.partitions,
        replicationFactor,
        configEntries: Object.entries(s.config ?? {}).map(([name, value]) => ({ name, value })),
      })),
    });
    if (created) log.info("kafka.topics_created", { topics: missing.map((s) => s.name) });
  }
  await alignTopicSettings(admin, specs.filter((s) => existing.has(s.name) && s.config));
  await warnOnSlowRetention(admin);
  // Usable means every partition has a leader, whoever created the topic.
  const names = specs.map((s) => s.name);
  const deadline = Date.now() + 30_000;
  for (;;) {
    const meta = await admin.fetchTopicMetadata({ topics: names }).catch(() => undefined);
    const led = meta?.topics.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0));
    if (led) return;
    if (Date.now() > deadline) throw new Error(`topics ${names.join(", ")} have no leaders after 30 s`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * Sets the spec's settings on topics that already exist. kafkajs has only the
 * replacing AlterConfigs, so the topic's other explicit settings are read first and
 * sent along, to be kept.
 */
async function alignTopicSettings(admin: Admin, specs: TopicSpec[]): Promise<void> {
  if (specs.length === 0) return;
  const described = await admin.describeConfigs({
    includeSynonyms: false,
    resources: specs.map((s) => ({ type: ConfigResourceTypes.TOPIC, name: s.name })),
  });
  const resources = [];
  for (const s of specs) {
    const current = described.resources.find((r) => r.resourceName === s.name)?.configEntries ?? [];
    const explicit = new Map(
      current.filter((e) => e.configSource === ConfigSource.TOPIC_CONFIG).map((e) => [e.configName, e.configValue]),
    );
    const wanted = Object.entries(s.config ?? {});
    if (wanted.every(([name, value]) => explicit.get(name) === value)) continue;
    for (const [name, value] of wanted) explicit.set(name, value);
    resources.push({
      type: ConfigResourceTypes.TOPIC,
      name: s.name,
      configEntries: [...explicit].map(([name, value]) => ({ name, value })),
    });
  }
  if (resources.length === 0) return;
  await admin.alterConfigs({ validateOnly: false, resources });
  log.info("kafka.topic_settings_updated", { topics: resources.map((r) => r.name) });
}

/** Warns when the brokers check retention so rarely that expired records linger for minutes. */
async function warnOnSlowRetention(admin: Admin): Promise<void> {
  try {
    const { brokers } = await admin.describeCluster();
    const described = await admin.describeConfigs({
      includeSynonyms: false,
      resources: brokers.map((b) => ({
        type: ConfigResourceTypes.BROKER,
        name: String(b.nodeId),
        configNames: ["log.retention.check.interval.ms"],
      })),
    });
    for (const r of described.resources) {
      const ms = Number(r.configEntries.find((e) => e.configName === "log.retention.check.interval.ms")?.configValue);
      if (ms > RETENTION_CHECK_WARN_MS) {
        log.warn("kafka.retention_checked_rarely", {
          broker: r.resourceName,
          logRetentionCheckIntervalMs: ms,
          effect: "expired user_locations records stay on this broker up to that long after LOCATION_TTL_S",
        });
      }
    }
  } catch (err) {
    // Describing broker settings needs a permission an operator may not grant us.
    log.debug("kafka.broker_settings_unreadable", { error: String(err) });
  }
}
