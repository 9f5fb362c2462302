/**
 * The store on MongoDB (or any server speaking its wire protocol: FerretDB, DocumentDB),
 * database `AlertCircleProject`:
 *
 * - `latest_user_location` {_id: userId, lat, lng, cell, seenAt}: one document per user,
 *   no history. "Who is near" reads the grid cells covering the circle
 *   (`{cell: {$in}, seenAt: {$gte}}`) and decides by exact great-circle distance here,
 *   so no geospatial operator or 2dsphere index is ever needed.
 * - `alerts_live` {_id: alertId, …, notified: [userIds], distances: [metres], expiresAt}:
 *   inserted once per alert id (a redelivery changes nothing).
 * - `leases` {_id: name, holder, until}: who runs the minute job.
 *
 * Freshness is always part of the query. TTL indexes (5 and 10 minutes) are created
 * where the server supports them; where it does not (FerretDB), the sweeper's
 * deleteMany reclaims the space instead.
 *
 * Writes go in batches. Against FerretDB 1.24 (SQLite) — recognised by `ferretdbVersion`
 * in buildInfo — they differ: it stops answering an update command of 100 or more
 * updates (99 take 0.2 s, 100 never return) and ends a bulk update at its first error,
 * dropping the rest; so location upserts go one per command there, other batches hold 50.
 */

import { MongoBulkWriteError, MongoClient, MongoServerError } from "mongodb";
import type { AnyBulkWriteOperation, Collection, Db, Filter } from "mongodb";
import type { Config } from "../../config.ts";
import type { AlertUpdate, EnrichedAlert, Notification, PublicAlert } from "../../domain/alert.ts";
import type { BBox } from "../../domain/geo.ts";
import { chord2ForDistance, distanceForChord2, toUnitVector } from "../../domain/geo.ts";
import { PROXIMITY_GRID } from "../../domain/grid.ts";
import { log } from "../../log.ts";
import type { AlertStore, LeaseStore, LocationStore, Nearby, Store, UserLocation } from "./port.ts";

export interface LocationDoc {
  _id: string;
  lat: number;
  lng: number;
  cell: number;
  seenAt: Date;
}

export interface AlertDoc {
  _id: string;
  type: PublicAlert["type"];
  lat: number;
  lng: number;
  note?: string;
  reporterId: string;
  source: string;
  reportedAt: Date;
  enrichedAt: Date;
  expiresAt: Date;
  radiusM: number;
  notifiedCount: number;
  notified: string[];
  distances: number[];
  cell: number;
  /** Reports that confirmed the alert (ids of reports, not of users). */
  confirmedBy: string[];
  /** Users who voted it gone: never shown to anyone. */
  goneVoters: string[];
  endedAt?: Date;
}

export interface LeaseDoc {
  _id: string;
  holder: string;
  until: Date;
}

export const COLLECTIONS = {
  locations: "latest_user_location",
  alerts: "alerts_live",
  leases: "leases",
} as const;

const DUPLICATE_KEY = 11000;

/** What the server turned out to support, found while creating the indexes. */
export interface SchemaReport {
  ttlIndexes: boolean;
  created: string[];
}

/**
 * Creates the collections and indexes if missing; safe to run any number of times
 * (`deno task db:init` and every start-up do).
 */
export async function ensureSchema(db: Db, ttl: { locationS: number; alertS: number }): Promise<SchemaReport> {
  const existing = new Set((await db.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name));
  const created: string[] = [];
  for (const name of Object.values(COLLECTIONS)) {
    if (existing.has(name)) continue;
    try {
      await db.createCollection(name);
      created.push(name);
    } catch (err) {
      if (!(err instanceof MongoServerError && err.code === 48)) throw err; // created meanwhile
    }
  }
  const locations = db.collection(COLLECTIONS.locations);
  const alerts = db.collection(COLLECTIONS.alerts);
  await locations.createIndex({ cell: 1, seenAt: 1 }, { name: "cell_seenAt" });
  await alerts.createIndex({ notified: 1, reportedAt: -1 }, { name: "notified_reportedAt" });
  await alerts.createIndex({ reportedAt: -1 }, { name: "reportedAt" });
  await alerts.createIndex({ cell: 1, expiresAt: 1 }, { name: "cell_expiresAt" });
  let ttlIndexes = true;
  for (
    const [coll, field, seconds] of [
      [locations, "seenAt", ttl.locationS],
      [alerts, "expiresAt", 0],
    ] as const
  ) {
    try {
      await coll.createIndex({ [field]: 1 }, { name: `${field}_ttl`, expireAfterSeconds: seconds });
    } catch (err) {
      if (!(err instanceof MongoServerError)) throw err;
      // No TTL indexes here (FerretDB answers NotImplemented): a plain index, and the sweeper deletes.
      ttlIndexes = false;
      await coll.createIndex({ [field]: 1 }, { name: `${field}_1` });
    }
  }
  return { ttlIndexes, created };
}

/**
 * The upsert for one location: it matches only an older (or no) location, so a stale
 * update fails as a duplicate key instead of overwriting a newer one.
 */
function upsertFor(l: UserLocation) {
  return [
    { _id: l.userId, seenAt: { $lte: new Date(l.seenAt) } },
    { $set: { lat: l.lat, lng: l.lng, cell: PROXIMITY_GRID.cellOf(l.lat, l.lng), seenAt: new Date(l.seenAt) } },
    { upsert: true },
  ] as const;
}

export class MongoLocationStore implements LocationStore {
  constructor(
    private readonly coll: Collection<LocationDoc>,
    private readonly ttlMs: number,
    private readonly batch: number,
    /** Write one update per command (FerretDB: see upsertMany). */
    private readonly perOp: boolean,
  ) {}

  get writeBatch(): number {
    return this.perOp ? 1 : this.batch;
  }

  async upsertMany(locations: UserLocation[]): Promise<void> {
    if (this.perOp) {
      // FerretDB stops a bulk update at its first error (a stale update's duplicate key)
      // and silently drops the rest, whatever `ordered` says: one operation at a time.
      for (const l of locations) {
        try {
          await this.coll.updateOne(...upsertFor(l));
        } catch (err) {
          if (!(err instanceof MongoServerError && err.code === DUPLICATE_KEY)) throw err;
        }
      }
      return;
    }
    for (let i = 0; i < locations.length; i += this.batch) {
      const ops: AnyBulkWriteOperation<LocationDoc>[] = locations.slice(i, i + this.batch).map((l) => {
        const [filter, update, options] = upsertFor(l);
        return { updateOne: { filter, update, ...options } };
      });
      try {
        await this.coll.bulkWrite(ops, { ordered: false });
      } catch (err) {
        if (err instanceof MongoBulkWriteError && onlyDuplicates(err)) continue;
        throw err;
      }
    }
  }

  async remove(userId: string): Promise<boolean> {
    return (await this.coll.deleteOne({ _id: userId })).deletedCount === 1;
  }

  async get(userId: string, now: number): Promise<UserLocation | undefined> {
    const d = await this.coll.findOne({ _id: userId, seenAt: { $gte: new Date(now - this.ttlMs) } });
    return d ? toLocation(d) : undefined;
  }

  async near(lat: number, lng: number, radiusM: number, now: number): Promise<Nearby> {
    const cells = PROXIMITY_GRID.covering(lat, lng, radiusM);
    const docs = await this.coll
      .find({ cell: { $in: cells }, seenAt: { $gte: new Date(now - this.ttlMs) } }, { projection: { lat: 1, lng: 1 } })
      .toArray();
    const [qx, qy, qz] = toUnitVector(lat, lng);
    const limit = chord2ForDistance(radiusM);
    const userIds: string[] = [];
    const distancesM: number[] = [];
    for (const d of docs) {
      const [x, y, z] = toUnitVector(d.lat, d.lng);
      const c2 = (x - qx) ** 2 + (y - qy) ** 2 + (z - qz) ** 2;
      if (c2 <= limit) {
        userIds.push(d._id);
        distancesM.push(Math.round(distanceForChord2(c2)));
      }
    }
    return { userIds, distancesM };
  }

  async active(now: number, options: { bbox?: BBox; limit: number }): Promise<UserLocation[]> {
    const filter: Record<string, unknown> = {
      seenAt: { $gte: new Date(now - this.ttlMs) },
      ...bboxFilter(options.bbox),
    };
    const docs = await this.coll.find(filter).limit(options.limit).toArray();
    return docs.map(toLocation);
  }

  countActive(now: number): Promise<number> {
    return this.coll.countDocuments({ seenAt: { $gte: new Date(now - this.ttlMs) } });
  }

  async sweep(now: number): Promise<number> {
    return (await this.coll.deleteMany({ seenAt: { $lt: new Date(now - this.ttlMs) } })).deletedCount;
  }
}

export class MongoAlertStore implements AlertStore {
  constructor(private readonly coll: Collection<AlertDoc>, private readonly batch: number) {}

  /** Inserts each alert once: a redelivered id fails as a duplicate key, which is ignored. */
  async upsert(alerts: EnrichedAlert[]): Promise<void> {
    for (let i = 0; i < alerts.length; i += this.batch) {
      try {
        await this.coll.insertMany(alerts.slice(i, i + this.batch).map(toAlertDoc), { ordered: false });
      } catch (err) {
        if (err instanceof MongoBulkWriteError && onlyDuplicates(err)) continue;
        throw err;
      }
    }
  }

  async applyUpdates(updates: AlertUpdate[]): Promise<void> {
    // In order and one by one: a confirmation and an ending of one alert must not swap.
    for (const u of updates) {
      if (u.ended) {
        await this.coll.updateOne({ _id: u.alertId }, { $set: { endedAt: new Date(u.at), expiresAt: new Date(u.at) } });
      } else if (u.confirmedBy) {
        await this.coll.updateOne(
          // An ended alert stays ended; $addToSet makes a repeated confirmation count once.
          { _id: u.alertId, endedAt: { $exists: false } },
          { $addToSet: { confirmedBy: u.confirmedBy }, $max: { expiresAt: new Date(u.expiresAt) } },
        );
      }
    }
  }

  async voteGone(
    alertId: string,
    userId: string,
    now: number,
  ): Promise<{ counted: boolean; votes: number } | undefined> {
    const live = { _id: alertId, expiresAt: { $gt: new Date(now) } };
    const r = await this.coll.updateOne(live, { $addToSet: { goneVoters: userId } });
    if (r.matchedCount === 0) return undefined;
    const d = await this.coll.findOne({ _id: alertId }, { projection: { goneVoters: 1 } });
    return { counted: r.modifiedCount === 1, votes: d?.goneVoters?.length ?? 0 };
  }

  async get(id: string, now: number): Promise<PublicAlert | undefined> {
    const d = await this.coll.findOne({ _id: id, expiresAt: { $gt: new Date(now) } }, { projection: PUBLIC });
    return d ? toPublic(d) : undefined;
  }

  async live(now: number, options: { bbox?: BBox; limit: number }): Promise<PublicAlert[]> {
    const docs = await this.coll
      .find({ expiresAt: { $gt: new Date(now) }, ...bboxFilter(options.bbox) }, { projection: PUBLIC })
      .sort({ reportedAt: -1 })
      .limit(options.limit)
      .toArray();
    return docs.map(toPublic);
  }

  async notificationsFor(userId: string, now: number, limit: number, since?: number): Promise<Notification[]> {
    const filter: Filter<AlertDoc> = { notified: userId, expiresAt: { $gt: new Date(now) } };
    if (since !== undefined) filter.reportedAt = { $gte: new Date(since) };
    const docs = await this.coll
      .find(filter, {
        projection: { ...PUBLIC, notified: 1, distances: 1 },
      })
      .sort({ reportedAt: -1 })
      .limit(limit)
      .toArray();
    return docs.map((d) => ({ alert: toPublic(d), distanceM: d.distances[d.notified.indexOf(userId)] }));
  }

  async sweep(now: number): Promise<number> {
    return (await this.coll.deleteMany({ expiresAt: { $lte: new Date(now) } })).deletedCount;
  }
}

export class MongoLeaseStore implements LeaseStore {
  constructor(private readonly coll: Collection<LeaseDoc>) {}

  async tryAcquire(name: string, holder: string, ttlMs: number, now: number): Promise<boolean> {
    try {
      // Matches a lease that is ours or expired; if another holds a live one the upsert
      // collides on _id and we know we lost.
      await this.coll.updateOne(
        { _id: name, $or: [{ holder }, { until: { $lte: new Date(now) } }] },
        { $set: { holder, until: new Date(now + ttlMs) } },
        { upsert: true },
      );
      return true;
    } catch (err) {
      if (err instanceof MongoServerError && err.code === DUPLICATE_KEY) return false;
      throw err;
    }
  }

  async release(name: string, holder: string): Promise<void> {
    await this.coll.deleteOne({ _id: name, holder });
  }
}

export class MongoStore implements Store {
  readonly kind = "mongo";
  readonly locations: MongoLocationStore;
  readonly alerts: MongoAlertStore;
  readonly leases: MongoLeaseStore;
  schema?: SchemaReport;

  private constructor(
    private readonly client: MongoClient,
    readonly db: Db,
    locationTtlMs: number,
    /** "ferretdb 1.24.2" or "mongodb 8.0.4": what the server says it is. */
    readonly server: string,
  ) {
    const batch = server.startsWith("ferretdb") ? 50 : 1_000;
    const ferret = server.startsWith("ferretdb");
    this.locations = new MongoLocationStore(
      db.collection<LocationDoc>(COLLECTIONS.locations),
      locationTtlMs,
      batch,
      ferret,
    );
    this.alerts = new MongoAlertStore(db.collection<AlertDoc>(COLLECTIONS.alerts), batch);
    this.leases = new MongoLeaseStore(db.collection<LeaseDoc>(COLLECTIONS.leases));
  }

  /** Connects and makes sure the collections and indexes exist. */
  static async open(
    settings: NonNullable<Config["mongo"]>,
    ttl: { locationS: number; alertS: number },
  ): Promise<MongoStore> {
    const client = new MongoClient(settings.uri, {
      serverSelectionTimeoutMS: 5_000,
      connectTimeoutMS: 5_000,
      socketTimeoutMS: 30_000,
      appName: "alertcircle",
    });
    await client.connect();
    const info = await client.db("admin").command({ buildInfo: 1 });
    const server = info.ferretdbVersion
      ? `ferretdb ${String(info.ferretdbVersion).replace(/^v/, "")}`
      : `mongodb ${info.version}`;
    const store = new MongoStore(client, client.db(settings.database), ttl.locationS * 1000, server);
    store.schema = await ensureSchema(store.db, ttl);
    if (!store.schema.ttlIndexes) {
      log.info("mongo.no_ttl_indexes", { note: "expired documents are removed by the sweeper" });
    }
    return store;
  }

  async health() {
    try {
      await this.db.command({ ping: 1 }, { timeoutMS: 2_000 });
      return { ok: true, detail: `${this.server}, database ${this.db.databaseName}` };
    } catch (err) {
      return { ok: false, detail: err instanceof Error ? err.message : String(err) };
    }
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}

const PUBLIC = {
  type: 1,
  lat: 1,
  lng: 1,
  note: 1,
  reportedAt: 1,
  expiresAt: 1,
  radiusM: 1,
  notifiedCount: 1,
  confirmedBy: 1,
  endedAt: 1,
} as const;

function onlyDuplicates(err: MongoBulkWriteError): boolean {
  const errors = Array.isArray(err.writeErrors) ? err.writeErrors : [err.writeErrors];
  return errors.length > 0 && errors.every((e) => e.code === DUPLICATE_KEY);
}

function bboxFilter(bbox: BBox | undefined): Record<string, unknown> {
  if (!bbox) return {};
  const lat = { lat: { $gte: bbox.south, $lte: bbox.north } };
  return bbox.west <= bbox.east
    ? { ...lat, lng: { $gte: bbox.west, $lte: bbox.east } }
    : { ...lat, $or: [{ lng: { $gte: bbox.west } }, { lng: { $lte: bbox.east } }] };
}

function toLocation(d: LocationDoc): UserLocation {
  return { userId: d._id, lat: d.lat, lng: d.lng, seenAt: d.seenAt.getTime() };
}

function toAlertDoc(a: EnrichedAlert): AlertDoc {
  const doc: AlertDoc = {
    _id: a.id,
    type: a.type,
    lat: a.lat,
    lng: a.lng,
    reporterId: a.reporterId,
    source: a.source,
    reportedAt: new Date(a.reportedAt),
    enrichedAt: new Date(a.enrichedAt),
    expiresAt: new Date(a.expiresAt),
    radiusM: a.radiusM,
    notifiedCount: a.notifiedCount,
    notified: a.notifiedUserIds,
    distances: a.distancesM,
    cell: PROXIMITY_GRID.cellOf(a.lat, a.lng),
    confirmedBy: [],
    goneVoters: [],
  };
  if (a.note !== undefined) doc.note = a.note;
  return doc;
}

function toPublic(d: Pick<AlertDoc, "_id" | keyof typeof PUBLIC>): PublicAlert {
  const a: PublicAlert = {
    id: d._id,
    type: d.type,
    lat: d.lat,
    lng: d.lng,
    reportedAt: d.reportedAt.toISOString(),
    expiresAt: d.expiresAt.toISOString(),
    radiusM: d.radiusM,
    notifiedCount: d.notifiedCount,
    confirmations: d.confirmedBy?.length ?? 0,
  };
  if (d.note !== undefined && d.note !== null) a.note = d.note;
  if (d.endedAt) a.endedAt = d.endedAt.toISOString();
  return a;
}
