/**
 * Reclaims space held by expired locations and alerts. Reads already ignore expired
 * entries, so how often this runs affects memory only, never what anyone sees.
 */

import type { LocationStore, Store } from "../adapters/store/port.ts";
import type { AlertTracker } from "../pipeline/alert_tracker.ts";
import { log } from "../log.ts";

export class Sweeper {
  private timer?: ReturnType<typeof setInterval>;

  constructor(
    private readonly store: Store,
    /** This instance's proximity index, when it is a copy separate from the store. */
    private readonly proximity?: LocationStore,
    private readonly tracker?: AlertTracker,
    // Often enough that an expired location is gone from memory within seconds of its TTL.
    private readonly everyMs = 10_000,
  ) {}

  start(): void {
    let running = false;
    this.timer = setInterval(() => {
      // On a server that scans for deleteMany (FerretDB) a sweep can outlast the
      // interval; starting another on top would only pile scans onto the server.
      if (running) return;
      running = true;
      this.sweep()
        .catch((err) => log.warn("sweeper.failed", { error: String(err) }))
        .finally(() => running = false);
    }, this.everyMs);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  async sweep(now = Date.now()): Promise<{ locations: number; alerts: number }> {
    const locations = await this.store.locations.sweep(now);
    await this.proximity?.sweep(now);
    this.tracker?.expire(now);
    const alerts = await this.store.alerts.sweep(now);
    if (locations + alerts > 0) log.debug("sweeper.reclaimed", { locations, alerts });
    return { locations, alerts };
  }
}
