/**
 * The embedded store: locations in the proximity index itself (so "who is near" never
 * leaves memory), live alerts in a map, and each user's feed as a short ring of alert
 * references. Used when MONGODB_URI is not set.
 */

import type { AlertUpdate, EnrichedAlert, Notification, PublicAlert } from "../../domain/alert.ts";
import { applyUpdate, toPublicAlert } from "../../domain/alert.ts";
import type { BBox } from "../../domain/geo.ts";
import { bboxContains } from "../../domain/geo.ts";
import { LocationIndex } from "../../domain/location_index.ts";
import type { AlertStore, LeaseStore, LocationStore, Nearby, Store, UserLocation } from "./port.ts";

/** Feed entries kept per user; older ones fall off. */
export const FEED_LENGTH = 50;

export class MemoryLocationStore implements LocationStore {
  /** @param index the index to hold the locations in: its own, or an instance's shared proximity index */
  constructor(private readonly ttlMs: number, readonly index = new LocationIndex()) {}

  upsertMany(locations: UserLocation[]): Promise<void> {
    for (const l of locations) this.index.upsert(l.userId, l.lat, l.lng, l.seenAt);
    return Promise.resolve();
  }

  remove(userId: string): Promise<boolean> {
    return Promise.resolve(this.index.remove(userId));
  }

  get(userId: string, now: number): Promise<UserLocation | undefined> {
    const l = this.index.get(userId);
    return Promise.resolve(l && l.seenAt >= now - this.ttlMs ? l : undefined);
  }

  near(lat: number, lng: number, radiusM: number, now: number): Promise<Nearby> {
    return Promise.resolve(this.index.near(lat, lng, radiusM, now - this.ttlMs));
  }

  active(now: number, options: { bbox?: BBox; limit: number; idPrefix?: string }): Promise<UserLocation[]> {
    const out: UserLocation[] = [];
    this.index.forEachActive(now - this.ttlMs, options.bbox, (u) => {
      if (options.idPrefix === undefined || u.userId.startsWith(options.idPrefix)) out.push(u);
      return out.length < options.limit;
    });
    return Promise.resolve(out);
  }

  countActive(now: number): Promise<number> {
    let n = 0;
    this.index.forEachActive(now - this.ttlMs, undefined, () => (++n, true));
    return Promise.resolve(n);
  }

  sweep(now: number): Promise<number> {
    return Promise.resolve(this.index.expire(now - this.ttlMs));
  }
}

interface HeldAlert {
  seq: number;
  alert: PublicAlert;
  expiresAt: number;
  applied: Set<string>;
  goneVoters: Set<string>;
}

export class MemoryAlertStore implements AlertStore {
  private readonly byId = new Map<string, HeldAlert>();
  private readonly bySeq = new Map<number, HeldAlert>();
  /** Per user: seq * 65536 + distance, newest last. */
  private readonly feeds = new Map<string, number[]>();
  private nextSeq = 1;

  upsert(alerts: EnrichedAlert[]): Promise<void> {
    for (const a of alerts) {
      if (this.byId.has(a.id)) continue;
      const held: HeldAlert = {
        seq: this.nextSeq++,
        alert: toPublicAlert(a),
        expiresAt: Date.parse(a.expiresAt),
        applied: new Set(),
        goneVoters: new Set(),
      };
      this.byId.set(a.id, held);
      this.bySeq.set(held.seq, held);
      for (let i = 0; i < a.notifiedUserIds.length; i++) {
        const userId = a.notifiedUserIds[i];
        let feed = this.feeds.get(userId);
        if (!feed) this.feeds.set(userId, feed = []);
        feed.push(held.seq * 65536 + Math.min(65535, a.distancesM[i]));
        if (feed.length > FEED_LENGTH) feed.shift();
      }
    }
    return Promise.resolve();
  }

  applyUpdates(updates: AlertUpdate[]): Promise<void> {
    for (const u of updates) {
      const held = this.byId.get(u.alertId);
      if (!held || held.applied.has(u.id)) continue;
      held.applied.add(u.id);
      held.alert = applyUpdate(held.alert, u);
      held.expiresAt = Date.parse(held.alert.expiresAt);
    }
    return Promise.resolve();
  }

  voteGone(alertId: string, userId: string, now: number): Promise<{ counted: boolean; votes: number } | undefined> {
    const held = this.byId.get(alertId);
    if (!held || held.expiresAt <= now) return Promise.resolve(undefined);
    const counted = !held.goneVoters.has(userId);
    held.goneVoters.add(userId);
    return Promise.resolve({ counted, votes: held.goneVoters.size });
  }

  get(id: string, now: number): Promise<PublicAlert | undefined> {
    const held = this.byId.get(id);
    return Promise.resolve(held && held.expiresAt > now ? held.alert : undefined);
  }

  live(now: number, options: { bbox?: BBox; limit: number }): Promise<PublicAlert[]> {
    const out: PublicAlert[] = [];
    // Map iteration is insertion order, i.e. enrichment order: walk it backwards for newest first.
    const all = [...this.byId.values()];
    for (let i = all.length - 1; i >= 0 && out.length < options.limit; i--) {
      const { alert, expiresAt } = all[i];
      if (expiresAt <= now) continue;
      if (options.bbox && !bboxContains(options.bbox, alert)) continue;
      out.push(alert);
    }
    return Promise.resolve(out);
  }

  notificationsFor(userId: string, now: number, limit: number): Promise<Notification[]> {
    const feed = this.feeds.get(userId) ?? [];
    const out: Notification[] = [];
    for (let i = feed.length - 1; i >= 0 && out.length < limit; i--) {
      const held = this.bySeq.get(Math.floor(feed[i] / 65536));
      if (!held || held.expiresAt <= now) continue;
      out.push({ alert: held.alert, distanceM: feed[i] % 65536 });
    }
    return Promise.resolve(out);
  }

  sweep(now: number): Promise<number> {
    let removed = 0;
    for (const [id, held] of this.byId) {
      if (held.expiresAt > now) continue;
      this.byId.delete(id);
      this.bySeq.delete(held.seq);
      removed++;
    }
    if (removed > 0) {
      for (const [userId, feed] of this.feeds) {
        const kept = feed.filter((entry) => this.bySeq.has(Math.floor(entry / 65536)));
        if (kept.length === 0) this.feeds.delete(userId);
        else if (kept.length !== feed.length) this.feeds.set(userId, kept);
      }
    }
    return Promise.resolve(removed);
  }
}

export class MemoryLeaseStore implements LeaseStore {
  private readonly leases = new Map<string, { holder: string; until: number }>();

  tryAcquire(name: string, holder: string, ttlMs: number, now: number): Promise<boolean> {
    const current = this.leases.get(name);
    if (current && current.holder !== holder && current.until > now) return Promise.resolve(false);
    this.leases.set(name, { holder, until: now + ttlMs });
    return Promise.resolve(true);
  }

  release(name: string, holder: string): Promise<void> {
    if (this.leases.get(name)?.holder === holder) this.leases.delete(name);
    return Promise.resolve();
  }
}

export class MemoryStore implements Store {
  readonly kind = "memory";
  readonly locations: MemoryLocationStore;
  readonly alerts = new MemoryAlertStore();
  readonly leases = new MemoryLeaseStore();

  constructor(locationTtlMs: number) {
    this.locations = new MemoryLocationStore(locationTtlMs);
  }

  health() {
    return Promise.resolve({ ok: true, detail: "in-process" });
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
