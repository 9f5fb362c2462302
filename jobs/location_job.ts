/**
 * The minute job (Deno.cron "* * * * *"): moves every simulated active user along their
 * walk and records their latest locations. With several instances only the holder of
 * the "location-job" lease runs it. Writes go in chunks with a yield between them, so a
 * big population never stalls the live pipeline running in the same process.
 */

import type { LocationUpdates } from "../app/locations.ts";
import type { LeaseStore, UserLocation } from "../adapters/store/port.ts";
import type { SimulationArea } from "../domain/simulated_walk.ts";
import { simulatedPosition, simulatedUserId } from "../domain/simulated_walk.ts";
import { log } from "../log.ts";

const CHUNK = 500;
export const LOCATION_JOB_LEASE = "location-job";

export interface LocationJobResult {
  ran: boolean;
  moved: number;
  ms: number;
}

export class LocationJob {
  lastRun?: LocationJobResult & { at: string };
  private running?: Promise<LocationJobResult>;
  private stopping = false;

  constructor(
    private readonly deps: {
      locations: LocationUpdates;
      leases: LeaseStore;
      area: SimulationArea;
      users: number;
      instanceId: string;
      now?: () => number;
    },
  ) {}

  async run(): Promise<LocationJobResult> {
    const now = this.deps.now ?? Date.now;
    const started = performance.now();
    // A slow store can make one run outlast the minute: never run two at once.
    if (this.running || this.stopping) return { ran: false, moved: 0, ms: 0 };
    this.running = this.move(now, started);
    try {
      return await this.running;
    } finally {
      this.running = undefined;
    }
  }

  /** Ends a run in progress after its current chunk (shutdown). */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.running?.catch(() => {});
  }

  private async move(now: () => number, started: number): Promise<LocationJobResult> {
    const t = now();
    // The lease outlives one run but not the next minute, so a dead holder is replaced within a minute.
    if (!await this.deps.leases.tryAcquire(LOCATION_JOB_LEASE, this.deps.instanceId, 55_000, t)) {
      return { ran: false, moved: 0, ms: performance.now() - started };
    }
    let moved = 0;
    for (let from = 0; from < this.deps.users && !this.stopping; from += CHUNK) {
      const chunk: UserLocation[] = [];
      for (let n = from; n < Math.min(from + CHUNK, this.deps.users); n++) {
        const p = simulatedPosition(this.deps.area, n, t);
        chunk.push({ userId: simulatedUserId(n), lat: p.lat, lng: p.lng, seenAt: t });
      }
      await this.deps.locations.record(chunk);
      moved += chunk.length;
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    const result = { ran: true, moved, ms: performance.now() - started };
    this.lastRun = { ...result, at: new Date(t).toISOString() };
    log.info("job.locations_moved", { moved, ms: Math.round(result.ms) });
    return result;
  }
}
