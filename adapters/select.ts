/**
 * Chooses each port's implementation from the configuration: the embedded one unless
 * the engine's variable is set (KAFKA_BROKERS, MONGODB_URI, S3_BUCKET). Each engine
 * switches on independently.
 */

import type { Config } from "../config.ts";
import { LocalArchive } from "./archive/local.ts";
import type { Archive } from "./archive/port.ts";
import { S3Archive } from "./archive/s3.ts";
import { KafkaBus } from "./bus/kafka.ts";
import { MemoryBus } from "./bus/memory.ts";
import type { Bus } from "./bus/port.ts";
import { MemoryStore } from "./store/memory.ts";
import { MongoStore } from "./store/mongo.ts";
import type { Store } from "./store/port.ts";

export function openBus(config: Config): Promise<Bus> {
  if (config.kafka) return Promise.resolve(new KafkaBus(config.kafka, config.instanceId));
  return Promise.resolve(new MemoryBus(6));
}

export async function openStore(config: Config): Promise<Store> {
  if (config.mongo) {
    return await MongoStore.open(config.mongo, { locationS: config.locationTtlS, alertS: config.alertTtlS });
  }
  return new MemoryStore(config.locationTtlS * 1000);
}

export async function openArchive(config: Config): Promise<Archive> {
  if (config.s3) {
    const archive = new S3Archive(config.s3);
    await archive.ensureBucket();
    return archive;
  }
  return new LocalArchive(`${config.dataDir}/archive`);
}
