/**
 * The in-memory proximity index: every user's latest location, bucketed by grid cell,
 * answering "who is within R metres of here, seen recently" without touching a
 * database. It is the embedded store's whole location table and, with real engines,
 * each instance's hot-path copy of it.
 *
 * Layout is struct-of-arrays in typed arrays (unit vector, seen time, cell, and an
 * intrusive doubly linked list per cell), so a user costs about a hundred bytes plus
 * their id, and the scan over a cell touches no JS objects. Distance is decided by the
 * squared chord between unit vectors: exact great-circle, no trigonometry per candidate.
 */

import { chord2ForDistance, distanceForChord2, fromUnitVector, toUnitVector } from "./geo.ts";
import type { BBox, LatLng } from "./geo.ts";
import { bboxContains } from "./geo.ts";
import { PROXIMITY_GRID } from "./grid.ts";

export interface UserLocation {
  userId: string;
  lat: number;
  lng: number;
  /** Epoch milliseconds when the user was last seen here. */
  seenAt: number;
}

/** Users within a radius; parallel arrays keep the result compact. */
export interface Nearby {
  userIds: string[];
  /** Whole metres, parallel to userIds. */
  distancesM: number[];
}

const NONE = -1;

export class LocationIndex {
  private readonly grid = PROXIMITY_GRID;
  private readonly slotOf = new Map<string, number>();
  private readonly heads = new Map<number, number>();
  private ids: (string | undefined)[] = [];
  private xyz = new Float64Array(0);
  private seen = new Float64Array(0);
  private cell = new Float64Array(0);
  private next = new Int32Array(0);
  private prev = new Int32Array(0);
  private freeSlots: number[] = [];
  private used = 0;

  constructor(initialCapacity = 1024) {
    this.grow(initialCapacity);
  }

  get size(): number {
    return this.slotOf.size;
  }

  /**
   * Records a location. An update older than what is held is ignored, so replays and
   * out-of-order deliveries cannot move a user backwards. Returns whether it applied.
   */
  upsert(userId: string, lat: number, lng: number, seenAt: number): boolean {
    let slot = this.slotOf.get(userId);
    const cellId = this.grid.cellOf(lat, lng);
    if (slot === undefined) {
      slot = this.allocate();
      this.slotOf.set(userId, slot);
      this.ids[slot] = userId;
      this.link(slot, cellId);
    } else {
      if (seenAt < this.seen[slot]) return false;
      if (this.cell[slot] !== cellId) {
        this.unlink(slot);
        this.link(slot, cellId);
      }
    }
    const [x, y, z] = toUnitVector(lat, lng);
    const o = slot * 3;
    this.xyz[o] = x;
    this.xyz[o + 1] = y;
    this.xyz[o + 2] = z;
    this.seen[slot] = seenAt;
    return true;
  }

  remove(userId: string): boolean {
    const slot = this.slotOf.get(userId);
    if (slot === undefined) return false;
    this.release(slot);
    return true;
  }

  get(userId: string): UserLocation | undefined {
    const slot = this.slotOf.get(userId);
    return slot === undefined ? undefined : this.read(slot);
  }

  /** Users seen at or after `minSeenAt` within `radiusM` of the point, in no particular order. */
  near(lat: number, lng: number, radiusM: number, minSeenAt: number): Nearby {
    const userIds: string[] = [];
    const distancesM: number[] = [];
    const [qx, qy, qz] = toUnitVector(lat, lng);
    const limit = chord2ForDistance(radiusM);
    const xyz = this.xyz;
    const seen = this.seen;
    const next = this.next;
    for (const cellId of this.grid.covering(lat, lng, radiusM)) {
      let slot = this.heads.get(cellId) ?? NONE;
      while (slot !== NONE) {
        if (seen[slot] >= minSeenAt) {
          const o = slot * 3;
          const dx = xyz[o] - qx;
          const dy = xyz[o + 1] - qy;
          const dz = xyz[o + 2] - qz;
          const c2 = dx * dx + dy * dy + dz * dz;
          if (c2 <= limit) {
            userIds.push(this.ids[slot]!);
            distancesM.push(Math.round(distanceForChord2(c2)));
          }
        }
        slot = next[slot];
      }
    }
    return { userIds, distancesM };
  }

  /** Calls `visit` for each user seen at or after `minSeenAt` (inside `bbox` if given) until it returns false. */
  forEachActive(
    minSeenAt: number,
    bbox: BBox | undefined,
    visit: (u: UserLocation) => boolean,
  ): void {
    for (let slot = 0; slot < this.used; slot++) {
      if (this.ids[slot] === undefined || this.seen[slot] < minSeenAt) continue;
      const u = this.read(slot);
      if (bbox && !bboxContains(bbox, u)) continue;
      if (!visit(u)) return;
    }
  }

  /** Forgets everyone last seen before `minSeenAt`; returns how many. */
  expire(minSeenAt: number): number {
    let removed = 0;
    for (let slot = 0; slot < this.used; slot++) {
      if (this.ids[slot] !== undefined && this.seen[slot] < minSeenAt) {
        this.release(slot);
        removed++;
      }
    }
    return removed;
  }

  private read(slot: number): UserLocation {
    const o = slot * 3;
    const p: LatLng = fromUnitVector(
      this.xyz[o],
      this.xyz[o + 1],
      this.xyz[o + 2],
    );
    return {
      userId: this.ids[slot]!,
      lat: p.lat,
      lng: p.lng,
      seenAt: this.seen[slot],
    };
  }

  private allocate(): number {
    const reused = this.freeSlots.pop();
    if (reused !== undefined) return reused;
    if (this.used === this.seen.length) this.grow(this.seen.length * 2);
    return this.used++;
  }

  private release(slot: number): void {
    this.unlink(slot);
    this.slotOf.delete(this.ids[slot]!);
    this.ids[slot] = undefined;
    this.freeSlots.push(slot);
  }

  private link(slot: number, cellId: number): void {
    const head = this.heads.get(cellId) ?? NONE;
    this.cell[slot] = cellId;
    this.prev[slot] = NONE;
    this.next[slot] = head;
    if (head !== NONE) this.prev[head] = slot;
    this.heads.set(cellId, slot);
  }

  private unlink(slot: number): void {
    const p = this.prev[slot];
    const n = this.next[slot];
    if (p !== NONE) this.next[p] = n;
    else if (n !== NONE) this.heads.set(this.cell[slot], n);
    else this.heads.delete(this.cell[slot]);
    if (n !== NONE) this.prev[n] = p;
  }

  private grow(capacity: number): void {
    const copy = <T extends Float64Array | Int32Array>(
      old: T,
      make: (n: number) => T,
      n: number,
    ) => {
      const fresh = make(n);
      fresh.set(old);
      return fresh;
    };
    this.xyz = copy(this.xyz, (n) => new Float64Array(n), capacity * 3);
    this.seen = copy(this.seen, (n) => new Float64Array(n), capacity);
    this.cell = copy(this.cell, (n) => new Float64Array(n), capacity);
    this.next = copy(this.next, (n) => new Int32Array(n), capacity);
    this.prev = copy(this.prev, (n) => new Int32Array(n), capacity);
  }
}
