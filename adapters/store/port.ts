/**
 * The store port: the system of record for users' latest locations, live alerts and
 * leases. Freshness is always checked on read (`now` is passed in), so correctness never
 * depends on TTL indexes or sweepers, which only reclaim space.
 */

import type { AlertUpdate, EnrichedAlert, Notification, PublicAlert } from "../../domain/alert.ts";
import type { BBox } from "../../domain/geo.ts";
import type { Nearby, UserLocation } from "../../domain/location_index.ts";

export type { Nearby, UserLocation };

export interface LocationStore {
  /** Upserts latest locations; an update older than the stored one is ignored. */
  upsertMany(locations: UserLocation[]): Promise<void>;
  /**
   * How many updates one upsertMany call should carry for the call to stay short: what
   * the server takes in one command (1 where it takes one update per command).
   */
  readonly writeBatch: number;
  /** Forgets a user's location at once. Returns whether one was held. */
  remove(userId: string): Promise<boolean>;
  /** The user's location if seen within the TTL. */
  get(userId: string, now: number): Promise<UserLocation | undefined>;
  /** Users seen within the TTL and within `radiusM` of the point (exact great-circle). */
  near(lat: number, lng: number, radiusM: number, now: number): Promise<Nearby>;
  /** Users seen within the TTL, optionally inside a box or with ids starting so, at most `limit`. */
  active(now: number, options: { bbox?: BBox; limit: number; idPrefix?: string }): Promise<UserLocation[]>;
  countActive(now: number): Promise<number>;
  /** Reclaims space held by expired locations; returns how many went. */
  sweep(now: number): Promise<number>;
}

export interface AlertStore {
  /** Writes an enriched alert; writing the same id again changes nothing. */
  upsert(alerts: EnrichedAlert[]): Promise<void>;
  /** Applies confirmations and endings, in order; applying one again changes nothing. */
  applyUpdates(updates: AlertUpdate[]): Promise<void>;
  /**
   * Records `userId`'s "it's gone" vote on a live alert (once per user). Undefined when
   * the alert is not live; otherwise whether this vote was new and how many there are.
   */
  voteGone(alertId: string, userId: string, now: number): Promise<{ counted: boolean; votes: number } | undefined>;
  get(id: string, now: number): Promise<PublicAlert | undefined>;
  /** Alerts not yet expired, newest first, optionally inside a box. */
  live(now: number, options: { bbox?: BBox; limit: number }): Promise<PublicAlert[]>;
  /**
   * Live alerts the user was notified of, newest first; with `since` (epoch ms) only
   * those reported at or after it (an SSE resume asks for everything after a time).
   */
  notificationsFor(userId: string, now: number, limit: number, since?: number): Promise<Notification[]>;
  sweep(now: number): Promise<number>;
}

export interface LeaseStore {
  /** Takes or renews the named lease for `holder` until now + ttlMs; false if another holds it. */
  tryAcquire(name: string, holder: string, ttlMs: number, now: number): Promise<boolean>;
  release(name: string, holder: string): Promise<void>;
}

export interface Store {
  readonly kind: "memory" | "mongo";
  readonly locations: LocationStore;
  readonly alerts: AlertStore;
  readonly leases: LeaseStore;
  health(): Promise<{ ok: boolean; detail: string }>;
  close(): Promise<void>;
}
