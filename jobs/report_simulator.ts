/**
 * The demo's report simulator: every SIM_REPORT_INTERVAL_S a few simulated users report
 * a sighting a short way from where they are, through the same intake as the API.
 */

import type { ReportIntake } from "../app/reports.ts";
import type { LocationStore } from "../adapters/store/port.ts";
import { ALERT_TYPES } from "../domain/alert.ts";
import { destination } from "../domain/geo.ts";
import { simulatedUserId } from "../domain/simulated_walk.ts";
import { log } from "../log.ts";

const NOTES = [
  "Writing tickets along the street",
  "Checking parking permits",
  "Just turned the corner",
  "Heading north slowly",
  "",
];

export class ReportSimulator {
  private timer?: ReturnType<typeof setInterval>;

  constructor(
    private readonly deps: {
      intake: ReportIntake;
      locations: LocationStore;
      users: number;
      intervalMs: number;
      random?: () => number;
      now?: () => number;
    },
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      this.tick().catch((err) => log.warn("simulator.report_failed", { error: String(err) }));
    }, this.deps.intervalMs);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Sends one round of 1–3 reports from simulated users who are currently active. */
  async tick(): Promise<number> {
    const random = this.deps.random ?? Math.random;
    const now = (this.deps.now ?? Date.now)();
    if (this.deps.users === 0) return 0;
    let sent = 0;
    const count = 1 + Math.floor(random() * 3);
    for (let i = 0; i < count; i++) {
      const reporterId = simulatedUserId(Math.floor(random() * this.deps.users));
      const here = await this.deps.locations.get(reporterId, now);
      if (!here) continue;
      const at = destination(here, random() * 360, 20 + random() * 80);
      const note = NOTES[Math.floor(random() * NOTES.length)];
      await this.deps.intake.submit({
        type: ALERT_TYPES[Math.floor(random() * ALERT_TYPES.length)],
        lat: at.lat,
        lng: at.lng,
        reporterId,
        ...(note ? { note } : {}),
      }, "simulator");
      sent++;
    }
    return sent;
  }
}
