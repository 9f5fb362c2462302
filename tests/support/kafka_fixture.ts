/**
 * A bus on a fresh topic prefix of the test broker, with a transactional producer of the
 * test's own beside it: for tests that must write what a crashed instance leaves behind
 * (a transaction aborted by its successor).
 */

import { Kafka, logLevel } from "kafkajs";
import type { Producer } from "kafkajs";
import { KafkaBus } from "../../adapters/bus/kafka.ts";
import { loadConfig } from "../../config.ts";
import { realServices, uniqueName } from "./services.ts";

export interface KafkaFixture {
  /** Prepended to every topic the bus names: the producer must write to `${prefix}topic`. */
  prefix: string;
  bus: KafkaBus;
  producer: Producer;
  close(): Promise<void>;
}

export async function kafkaFixture(label: string): Promise<KafkaFixture> {
  const prefix = `${uniqueName(label)}.`;
  const brokers = realServices().kafkaBrokers;
  const config = loadConfig({ KAFKA_BROKERS: brokers, KAFKA_TOPIC_PREFIX: prefix });
  const bus = new KafkaBus(config.kafka!, `${label}-test`);
  const kafka = new Kafka({ brokers: brokers.split(","), logLevel: logLevel.NOTHING });
  const producer = kafka.producer({ transactionalId: `${prefix}tx`, idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  return {
    prefix,
    bus,
    producer,
    async close() {
      await producer.disconnect();
      await bus.close();
    },
  };
}
