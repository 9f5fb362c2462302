/**
 * Accepting a sighting: the server gives it an id and a time and makes it durable on
 * `raw_alerts`. The API and the demo simulator both come through here, so simulated
 * reports exercise exactly the path people's reports take.
 */

import type { Bus } from "../adapters/bus/port.ts";
import { jsonMessage, TOPICS } from "../adapters/bus/port.ts";
import type { Report } from "../domain/alert.ts";
import { areaKey } from "../domain/grid.ts";
import { uuidv7 } from "../domain/ids.ts";
import type { ReportInput } from "../domain/schemas.ts";

/**
 * The bus did not confirm the report as durable in time; the caller should answer 503.
 * Not confirmed is not "not written": a send the client library still holds can reach
 * the broker when it is back. Retrying is safe: a repeat near a live alert of the same
 * type joins it instead of notifying anyone again.
 */
export class NotAccepted extends Error {
  constructor(cause: unknown) {
    super("the report could not be confirmed as stored; retrying is safe", { cause });
    this.name = "NotAccepted";
  }
}

export class ReportIntake {
  accepted = 0;

  constructor(private readonly bus: Bus, private readonly now: () => number = Date.now) {}

  /** Resolves with the report once the bus holds it durably; rejects with NotAccepted otherwise. */
  async submit(input: ReportInput, source: Report["source"] = "api"): Promise<Report> {
    const t = this.now();
    const report: Report = {
      id: uuidv7(t),
      type: input.type,
      lat: input.lat,
      lng: input.lng,
      reporterId: input.reporterId,
      reportedAt: new Date(t).toISOString(),
      source,
    };
    if (input.note !== undefined && input.note.trim() !== "") report.note = input.note.trim();
    try {
      // Keyed by area: one neighbourhood's reports stay in order on one partition.
      await this.bus.publish(TOPICS.rawAlerts, [jsonMessage(areaKey(report.lat, report.lng), report)]);
    } catch (err) {
      throw new NotAccepted(err);
    }
    this.accepted++;
    return report;
  }
}
