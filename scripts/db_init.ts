/**
 * `deno task db:init`: creates the AlertCircle database, its collections and indexes on
 * the server MONGODB_URI names (what the original init_alertcircle_db.js did). Safe to
 * run again; the service does the same at every start-up.
 */

import { MongoClient } from "mongodb";
import { ensureSchema } from "../adapters/store/mongo.ts";
import { ConfigError, loadConfig } from "../config.ts";

try {
  const config = loadConfig();
  if (!config.mongo) throw new ConfigError("MONGODB_URI", "is required for db:init");
  const client = new MongoClient(config.mongo.uri, { serverSelectionTimeoutMS: 5_000 });
  await client.connect();
  try {
    const db = client.db(config.mongo.database);
    const report = await ensureSchema(db, { locationS: config.locationTtlS, alertS: config.alertTtlS });
    for (const name of ["latest_user_location", "alerts_live", "leases"]) {
      const indexes = await db.collection(name).listIndexes().toArray();
      console.log(`${config.mongo.database}.${name}: ${indexes.map((i) => i.name).join(", ")}`);
    }
    console.log(
      report.ttlIndexes
        ? "TTL indexes in place (5 min locations, expiry time for alerts)"
        : "this server has no TTL indexes: the service's sweeper removes expired documents",
    );
  } finally {
    await client.close();
  }
} catch (err) {
  console.error(`db:init: ${err instanceof Error ? err.message : err}`);
  Deno.exit(1);
}
