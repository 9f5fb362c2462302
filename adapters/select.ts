/**
 * Chooses each port's implementation from the configuration: the embedded one unless
 * the engine's variable is set. Each engine switches on independently.
 */

import type { Config } from "../config.ts";
import { LocalArchive } from "./archive/local.ts";
import type { Archive } from "./archive/port.ts";
import { MemoryBus } from "./bus/memory.ts";
import type { Bus } from "./bus/port.ts";
import { MemoryStore } from "./store/memory.ts";
import type { Store } from "./store/port.ts";

export function openBus(config: Config): Promise<Bus> {
  return Promise.resolve(new MemoryBus(config.kafka?.partitions ?? 6));
}

export function openStore(config: Config): Promise<Store> {
  return Promise.resolve(new MemoryStore(config.locationTtlS * 1000));
}

export function openArchive(config: Config): Promise<Archive> {
  return Promise.resolve(new LocalArchive(`${config.dataDir}/archive`));
}
