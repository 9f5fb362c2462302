/**
 * The in-memory proximity index: every user's latest location, bucketed by grid cell,
 * answering "who is within R metres of here, seen recently" without touching a
 * database. It is the embedded store's whole location table and, with real engines,
 * each instance's hot-path copy of it.
 *
 * Layout: one bucket per occupied grid cell, holding its users contiguously in a typed
 * array (unit vector x, y, z and seen time, four doubles per user), so a query scans
 * memory in order and touches no JS objects; a user → slot map and two small arrays say
 * where each user sits. A user costs about a hundred bytes plus their id. Distance is
 * decided by the squared chord between unit vectors: exact great-circle, no
 * trigonometry per candidate.
 */

import { chord2ForDistance, distanceForChord2, EARTH_RADIUS_M, fromUnitVector, toUnitVector } from "./geo.ts";
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

/** Doubles per user in a bucket: x, y, z of the unit vector, then seen time. */
const STRIDE = 4;
const MIN_BUCKET = 8;

class Bucket {
  n = 0;
  data: Float64Array;
  slots: Int32Array;
  /** User ids in bucket order, so a query copies ids without chasing per-user memory. */
  ids: string[] = [];

  constructor(readonly cell: number, capacity = MIN_BUCKET) {
    this.data = new Float64Array(capacity * STRIDE);
    this.slots = new Int32Array(capacity);
  }

  resize(capacity: number): void {
    const data = new Float64Array(capacity * STRIDE);
    data.set(this.data.subarray(0, this.n * STRIDE));
    const slots = new Int32Array(capacity);
    slots.set(this.slots.subarray(0, this.n));
    this.data = data;
    this.slots = slots;
  }
}

/**
 * Chord length → metres. For city distances (chord under 0.01, i.e. 64 km) the series
 * 2R·asin(c/2) = R·c·(1 + c²/24 + …) is exact to far below a millimetre and avoids asin.
 */
function metresForChord2(c2: number): number {
  if (c2 < 1e-4) {
    const c = Math.sqrt(c2);
    return EARTH_RADIUS_M * c * (1 + c2 / 24 + (3 * c2 * c2) / 640);
  }
  return distanceForChord2(c2);
}

export class LocationIndex {
  private readonly grid = PROXIMITY_GRID;
  private readonly slotOf = new Map<string, number>();
  private readonly buckets = new Map<number, Bucket>();
  /** Per slot: the bucket holding the user, and their position in it. */
  private bucketOf: (Bucket | undefined)[] = [];
  private posOf = new Int32Array(0);
  private freeSlots: number[] = [];
  private scratchIds: string[] = [];
  private scratchChords = new Float64Array(1_024);

  constructor(initialCapacity = 1024) {
    this.posOf = new Int32Array(initialCapacity);
  }

  get size(): number {
    return this.slotOf.size;
  }

  /**
   * Records a location. An update older than what is held is ignored, so replays and
   * out-of-order deliveries cannot move a user backwards. Returns whether it applied.
   */
  upsert(userId: string, lat: number, lng: number, seenAt: number): boolean {
    const cell = this.grid.cellOf(lat, lng);
    let slot = this.slotOf.get(userId);
    let bucket: Bucket;
    let pos: number;
    if (slot === undefined) {
      slot = this.allocate();
      this.slotOf.set(userId, slot);
      [bucket, pos] = this.place(slot, cell, userId);
    } else {
      bucket = this.bucketOf[slot]!;
      pos = this.posOf[slot];
      if (seenAt < bucket.data[pos * STRIDE + 3]) return false;
      if (bucket.cell !== cell) {
        this.take(bucket, pos);
        [bucket, pos] = this.place(slot, cell, userId);
      }
    }
    const [x, y, z] = toUnitVector(lat, lng);
    const o = pos * STRIDE;
    bucket.data[o] = x;
    bucket.data[o + 1] = y;
    bucket.data[o + 2] = z;
    bucket.data[o + 3] = seenAt;
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
    return slot === undefined ? undefined : this.read(this.bucketOf[slot]!, this.posOf[slot]);
  }

  /** Users seen at or after `minSeenAt` within `radiusM` of the point, in no particular order. */
  near(lat: number, lng: number, radiusM: number, minSeenAt: number): Nearby {
    // Matches go to scratch buffers reused across queries, then into exactly sized
    // results: growing arrays match by match was most of the allocation under load.
    let ids = this.scratchIds;
    let chords = this.scratchChords;
    let n = 0;
    const [qx, qy, qz] = toUnitVector(lat, lng);
    const limit = chord2ForDistance(radiusM);
    for (const cell of this.grid.covering(lat, lng, radiusM)) {
      const bucket = this.buckets.get(cell);
      if (bucket === undefined) continue;
      const data = bucket.data;
      const bucketIds = bucket.ids;
      const count = bucket.n;
      for (let i = 0, o = 0; i < count; i++, o += STRIDE) {
        const dx = data[o] - qx;
        const dy = data[o + 1] - qy;
        const dz = data[o + 2] - qz;
        const c2 = dx * dx + dy * dy + dz * dz;
        if (c2 <= limit && data[o + 3] >= minSeenAt) {
          if (n === chords.length) {
            const grown = new Float64Array(chords.length * 2);
            grown.set(chords);
            this.scratchChords = chords = grown;
          }
          ids[n] = bucketIds[i];
          chords[n++] = c2;
        }
      }
    }
    const userIds = ids.slice(0, n);
    const distancesM = new Array<number>(n);
    for (let i = 0; i < n; i++) distancesM[i] = Math.round(metresForChord2(chords[i]));
    // Let go of the ids this query touched, so the scratch array keeps no user alive.
    if (n > 4_096) this.scratchIds = ids = [];
    else ids.fill(undefined as unknown as string, 0, n);
    return { userIds, distancesM };
  }

  /** Calls `visit` for each user seen at or after `minSeenAt` (inside `bbox` if given) until it returns false. */
  forEachActive(minSeenAt: number, bbox: BBox | undefined, visit: (u: UserLocation) => boolean): void {
    for (const bucket of this.buckets.values()) {
      for (let pos = 0; pos < bucket.n; pos++) {
        if (bucket.data[pos * STRIDE + 3] < minSeenAt) continue;
        const u = this.read(bucket, pos);
        if (bbox && !bboxContains(bbox, u)) continue;
        if (!visit(u)) return;
      }
    }
  }

  /** Forgets everyone last seen before `minSeenAt`; returns how many. */
  expire(minSeenAt: number): number {
    let removed = 0;
    for (const bucket of [...this.buckets.values()]) {
      // Backwards, so the swap-in from the end never skips an entry.
      for (let pos = bucket.n - 1; pos >= 0; pos--) {
        if (bucket.data[pos * STRIDE + 3] < minSeenAt) {
          this.release(bucket.slots[pos]);
          removed++;
        }
      }
    }
    return removed;
  }

  private read(bucket: Bucket, pos: number): UserLocation {
    const o = pos * STRIDE;
    const d = bucket.data;
    const p: LatLng = fromUnitVector(d[o], d[o + 1], d[o + 2]);
    return { userId: bucket.ids[pos], lat: p.lat, lng: p.lng, seenAt: d[o + 3] };
  }

  /** Appends the slot to its cell's bucket; returns where it went. */
  private place(slot: number, cell: number, userId: string): [Bucket, number] {
    let bucket = this.buckets.get(cell);
    if (!bucket) this.buckets.set(cell, bucket = new Bucket(cell));
    if (bucket.n === bucket.slots.length) bucket.resize(bucket.n * 2);
    const pos = bucket.n++;
    bucket.slots[pos] = slot;
    bucket.ids[pos] = userId;
    this.bucketOf[slot] = bucket;
    this.posOf[slot] = pos;
    return [bucket, pos];
  }

  /** Removes position `pos` from the bucket by moving its last entry into the hole. */
  private take(bucket: Bucket, pos: number): void {
    const last = --bucket.n;
    if (pos !== last) {
      bucket.data.copyWithin(pos * STRIDE, last * STRIDE, last * STRIDE + STRIDE);
      const moved = bucket.slots[last];
      bucket.slots[pos] = moved;
      bucket.ids[pos] = bucket.ids[last];
      this.posOf[moved] = pos;
    }
    bucket.ids.length = last;
    if (bucket.n === 0) this.buckets.delete(bucket.cell);
    else if (bucket.n * 4 < bucket.slots.length && bucket.slots.length > MIN_BUCKET) {
      bucket.resize(bucket.slots.length / 2);
    }
  }

  private allocate(): number {
    const reused = this.freeSlots.pop();
    if (reused !== undefined) return reused;
    const slot = this.bucketOf.length;
    this.bucketOf.push(undefined);
    if (slot >= this.posOf.length) {
      const grown = new Int32Array(this.posOf.length * 2);
      grown.set(this.posOf);
      this.posOf = grown;
    }
    return slot;
  }

  private release(slot: number): void {
    const bucket = this.bucketOf[slot]!;
    const pos = this.posOf[slot];
    this.slotOf.delete(bucket.ids[pos]);
    this.take(bucket, pos);
    this.bucketOf[slot] = undefined;
    this.freeSlots.push(slot);
  }
}
