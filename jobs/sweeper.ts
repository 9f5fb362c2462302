/**
 * Reclaims space held by expired locations and alerts, and deletes reports already
 * enriched from the bus. Reads already ignore expired entries, so how often this runs
 * affects memory only, never what anyone sees; what it deletes is what nobody needs
 * any more, and for privacy it goes within a sweep's period, not at the bus's
 * retention (a report pairs its reporter's id with a place).
 */

import type { LocationStore, Store } from "../adapters/store/port.ts";
import type { AlertTracker } from "../pipeline/alert_tracker.ts";
import { log } from "../log.ts";

export class Sweeper {
  private timer?: ReturnType<typeof setTimeout>;

  private readonly everyMs: number;

  constructor(
    private readonly deps: {
      store: Store;
      /** This instance's proximity index, when it is a copy separate from the store. */
      proximity?: LocationStore;
      tracker?: AlertTracker;
      /** Deletes what enrichment has committed from `raw_alerts`; returns how many went. */
      deleteEnrichedReports?: () => Promise<number>;
      /** Often enough that an expired location is gone from memory within seconds of its TTL. */
      everyMs?: number;
    },
  ) {
    this.everyMs = deps.everyMs ?? 10_000;
  }

  start(): void {
    // Each sweep is scheduled when the last one ends, at least `everyMs` later and
    // later still after a long one: on a server that scans for deleteMany (FerretDB) a
    // sweep of a big collection takes seconds, and sweeping back to back would keep the
    // server busy for what reads already ignore. At most a tenth of the time sweeping.
    const next = (lastMs: number) => {
      this.timer = setTimeout(async () => {
        const started = performance.now();
        await this.sweep().catch((err) => log.warn("sweeper.failed", { error: String(err) }));
        if (this.timer !== undefined) next(performance.now() - started);
      }, Math.max(this.everyMs, 9 * lastMs));
    };
    next(0);
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  async sweep(now = Date.now()): Promise<{ locations: number; alerts: number; reports: number }> {
    // Memory first: quick, whatever the store's speed.
    await this.deps.proximity?.sweep(now);
    this.deps.tracker?.expire(now);
    // Apart from the store's sweeps, so that a broker that refuses it (no permission to
    // delete records) or is down does not keep expired locations in the store.
    const reports = await this.deps.deleteEnrichedReports?.().catch((err) => {
      log.warn("sweeper.reports_not_deleted", { error: String(err) });
      return 0;
    }) ?? 0;
    const locations = await this.deps.store.locations.sweep(now);
    const alerts = await this.deps.store.alerts.sweep(now);
    if (locations + alerts + reports > 0) log.debug("sweeper.reclaimed", { locations, alerts, reports });
    return { locations, alerts, reports };
  }
}
