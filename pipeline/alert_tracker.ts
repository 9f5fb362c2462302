/**
 * This instance's view of the live alerts, kept from the alert events it sees: enrichment
 * asks it whether a report repeats an alert (same type, close by, recent) so the report
 * joins that alert instead of notifying everyone again; the live push takes an alert's
 * current state from it when a change arrives. Alerts are bucketed by grid cell, so the
 * question costs a few map lookups; expired ones are dropped as they go.
 */

import type { AlertEvent, AlertType, PublicAlert } from "../domain/alert.ts";
import { applyUpdate, isUpdate, toPublicAlert } from "../domain/alert.ts";
import { distanceM } from "../domain/geo.ts";
import { PROXIMITY_GRID } from "../domain/grid.ts";

interface Tracked {
  alert: PublicAlert;
  cell: number;
  /** Epoch ms of the report or the latest confirmation. */
  lastActivity: number;
  /** Update ids already applied, so a redelivered update changes nothing. */
  applied: Set<string>;
}

export class AlertTracker {
  private readonly byId = new Map<string, Tracked>();
  private readonly byCell = new Map<number, Set<Tracked>>();

  get size(): number {
    return this.byId.size;
  }

  /** Records a new alert or a change; returns the alert's state after it (undefined if unknown). */
  apply(event: AlertEvent): PublicAlert | undefined {
    if (!isUpdate(event)) {
      this.remember(toPublicAlert(event));
      return this.byId.get(event.id)!.alert;
    }
    const t = this.byId.get(event.alertId);
    if (!t) return undefined;
    if (t.applied.has(event.id)) return t.alert;
    t.applied.add(event.id);
    t.alert = applyUpdate(t.alert, event);
    if (!event.ended) t.lastActivity = Math.max(t.lastActivity, Date.parse(event.at));
    return t.alert;
  }

  /** Adds an alert known from the store (at start-up), unless already tracked. */
  remember(a: PublicAlert): void {
    if (this.byId.has(a.id)) return;
    const t: Tracked = {
      alert: a,
      cell: PROXIMITY_GRID.cellOf(a.lat, a.lng),
      lastActivity: Date.parse(a.reportedAt),
      applied: new Set(),
    };
    this.byId.set(a.id, t);
    let set = this.byCell.get(t.cell);
    if (!set) this.byCell.set(t.cell, set = new Set());
    set.add(t);
  }

  get(id: string): PublicAlert | undefined {
    return this.byId.get(id)?.alert;
  }

  /**
   * A live alert of this type within `radiusM` of the point whose latest report or
   * confirmation is within `windowMs` of `now`: the nearest such alert, if any.
   */
  findRepeat(
    type: AlertType,
    lat: number,
    lng: number,
    radiusM: number,
    windowMs: number,
    now: number,
  ): PublicAlert | undefined {
    let best: { alert: PublicAlert; d: number } | undefined;
    for (const cell of PROXIMITY_GRID.covering(lat, lng, radiusM)) {
      for (const t of this.byCell.get(cell) ?? []) {
        const a = t.alert;
        if (a.type !== type || a.endedAt !== undefined || Date.parse(a.expiresAt) <= now) continue;
        if (now - t.lastActivity > windowMs) continue;
        const d = distanceM({ lat, lng }, a);
        if (d <= radiusM && (!best || d < best.d)) best = { alert: a, d };
      }
    }
    return best?.alert;
  }

  /** Alerts live at `now` (an ended alert's expiry is its end). */
  liveCount(now: number): number {
    let n = 0;
    for (const t of this.byId.values()) if (Date.parse(t.alert.expiresAt) > now) n++;
    return n;
  }

  /** Forgets alerts that have expired. */
  expire(now: number): number {
    let removed = 0;
    for (const [id, t] of this.byId) {
      if (Date.parse(t.alert.expiresAt) > now) continue;
      this.byId.delete(id);
      const set = this.byCell.get(t.cell)!;
      set.delete(t);
      if (set.size === 0) this.byCell.delete(t.cell);
      removed++;
    }
    return removed;
  }
}
