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

  /** In memory any number is quick. */
  readonly writeBatch: number = 10_000;

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
  /** Made on first use: most alerts are never confirmed or voted on. */
  applied?: Set<string>;
  goneVoters?: Set<string>;
}

/**
 * Every user's feed in one arena of doubles: each user who has been notified owns a
 * ring of FEED_LENGTH (alert seq, distance) entries in it. One allocation (doubling as
 * users arrive) instead of a growing array per user: under 150,000 notifications a
 * second, per-user arrays were most of what the garbage collector had to copy.
 */
class FeedArena {
  private readonly slotOf = new Map<string, number>();
  private readonly freeSlots: number[] = [];
  private entries = new Float64Array(1_024 * FEED_LENGTH);
  private next = new Int32Array(1_024);
  private counts = new Int32Array(1_024);
  private used = 0;

  add(userId: string, seq: number, distanceM: number): void {
    let slot = this.slotOf.get(userId);
    if (slot === undefined) {
      slot = this.freeSlots.pop() ?? this.grow();
      this.slotOf.set(userId, slot);
      this.next[slot] = 0;
      this.counts[slot] = 0;
    }
    this.entries[slot * FEED_LENGTH + this.next[slot]] = seq * 65536 + Math.min(65535, distanceM);
    this.next[slot] = (this.next[slot] + 1) % FEED_LENGTH;
    if (this.counts[slot] < FEED_LENGTH) this.counts[slot]++;
  }

  /** The user's entries, newest first, until `visit` returns false. */
  newestFirst(userId: string, visit: (entry: number) => boolean): void {
    const slot = this.slotOf.get(userId);
    if (slot === undefined) return;
    for (let k = 1; k <= this.counts[slot]; k++) {
      const i = (this.next[slot] - k + FEED_LENGTH) % FEED_LENGTH;
      if (!visit(this.entries[slot * FEED_LENGTH + i])) return;
    }
  }

  /** Frees every feed whose newest entry fails `keep`. */
  prune(keep: (entry: number) => boolean): void {
    for (const [userId, slot] of this.slotOf) {
      const newest = this.entries[slot * FEED_LENGTH + (this.next[slot] - 1 + FEED_LENGTH) % FEED_LENGTH];
      if (keep(newest)) continue;
      this.slotOf.delete(userId);
      this.freeSlots.push(slot);
    }
  }

  private grow(): number {
    if (this.used === this.next.length) {
      const capacity = this.next.length * 2;
      const entries = new Float64Array(capacity * FEED_LENGTH);
      entries.set(this.entries);
      const next = new Int32Array(capacity);
      next.set(this.next);
      const counts = new Int32Array(capacity);
      counts.set(this.counts);
      this.entries = entries;
      this.next = next;
      this.counts = counts;
    }
    return this.used++;
  }
}

export class MemoryAlertStore implements AlertStore {
  private readonly byId = new Map<string, HeldAlert>();
  private readonly bySeq = new Map<number, HeldAlert>();
  /** Per user: seq * 65536 + distance. */
  private readonly feeds = new FeedArena();
  private nextSeq = 1;

  upsert(alerts: EnrichedAlert[]): Promise<void> {
    for (const a of alerts) {
      if (this.byId.has(a.id)) continue;
      const held: HeldAlert = { seq: this.nextSeq++, alert: toPublicAlert(a), expiresAt: Date.parse(a.expiresAt) };
      this.byId.set(a.id, held);
      this.bySeq.set(held.seq, held);
      for (let i = 0; i < a.notifiedUserIds.length; i++) {
        this.feeds.add(a.notifiedUserIds[i], held.seq, a.distancesM[i]);
      }
    }
    return Promise.resolve();
  }

  applyUpdates(updates: AlertUpdate[]): Promise<void> {
    for (const u of updates) {
      const held = this.byId.get(u.alertId);
      if (!held || held.applied?.has(u.id)) continue;
      (held.applied ??= new Set()).add(u.id);
      held.alert = applyUpdate(held.alert, u);
      held.expiresAt = Date.parse(held.alert.expiresAt);
    }
    return Promise.resolve();
  }

  voteGone(alertId: string, userId: string, now: number): Promise<{ counted: boolean; votes: number } | undefined> {
    const held = this.byId.get(alertId);
    if (!held || held.expiresAt <= now) return Promise.resolve(undefined);
    const voters = held.goneVoters ??= new Set();
    const counted = !voters.has(userId);
    voters.add(userId);
    return Promise.resolve({ counted, votes: voters.size });
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

  notificationsFor(userId: string, now: number, limit: number, since?: number): Promise<Notification[]> {
    const out: Notification[] = [];
    this.feeds.newestFirst(userId, (entry) => {
      const held = this.bySeq.get(Math.floor(entry / 65536));
      // Feeds are in arrival order, which across partitions is not quite report order: filter, don't stop.
      const recent = since === undefined || Date.parse(held?.alert.reportedAt ?? "") >= since;
      if (held && held.expiresAt > now && recent) out.push({ alert: held.alert, distanceM: entry % 65536 });
      return out.length < limit;
    });
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
      // A feed whose newest alert is gone holds nothing live: drop it. Older dead entries
      // in live feeds are skipped on read and overwritten as the ring turns.
      this.feeds.prune((newest) => this.bySeq.has(Math.floor(newest / 65536)));
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
