import assert from "node:assert/strict";
import { ConfigError, describeConfig, loadConfig } from "./config.ts";

Deno.test("defaults: the embedded system in central Tel Aviv on port 8000", () => {
  const c = loadConfig({});
  assert.equal(c.port, 8000);
  assert.equal(c.alertRadiusM, 500);
  assert.equal(c.locationTtlS, 300);
  assert.equal(c.alertTtlS, 600);
  assert.equal(c.dataDir, "./data");
  assert.equal(c.simulate, true);
  assert.equal(c.simUsers, 500);
  assert.equal(c.simReportIntervalS, 10);
  assert.deepEqual(c.simCenter, { lat: 32.0853, lng: 34.7818 });
  assert.equal(c.kafka, undefined);
  assert.equal(c.mongo, undefined);
  assert.equal(c.s3, undefined);
});

Deno.test("each engine switches on by its own variable", () => {
  const c = loadConfig({
    KAFKA_BROKERS: "127.0.0.1:9092, 127.0.0.1:9093",
    MONGODB_URI: "mongodb://user:pw@127.0.0.1:27017/",
    S3_BUCKET: "b",
    S3_ENDPOINT: "http://127.0.0.1:9000",
  });
  assert.deepEqual(c.kafka?.brokers, ["127.0.0.1:9092", "127.0.0.1:9093"]);
  assert.equal(c.mongo?.database, "AlertCircleProject");
  assert.equal(c.s3?.forcePathStyle, true);
  const shown = JSON.stringify(describeConfig(c));
  assert.ok(!shown.includes(":pw@"), "passwords are masked when printed");
});

Deno.test("a bad value names its variable", () => {
  const cases: Array<[Record<string, string>, RegExp]> = [
    [{ PORT: "eighty" }, /^PORT: expected a whole number/],
    [{ PORT: "70000" }, /^PORT: must be between 0 and 65535/],
    [{ ALERT_RADIUS_M: "0" }, /^ALERT_RADIUS_M:/],
    [{ LOCATION_TTL_S: "1.5" }, /^LOCATION_TTL_S:/],
    [{ SIMULATE: "maybe" }, /^SIMULATE: expected on or off/],
    [{ SIM_CENTER: "32.1" }, /^SIM_CENTER: expected "lat,lng"/],
    [{ SIM_CENTER: "95,34" }, /^SIM_CENTER: latitude/],
    [{ TILE_URL: "ftp://x/{z}/{x}/{y}" }, /^TILE_URL:/],
    [{ LOG_LEVEL: "loud" }, /^LOG_LEVEL:/],
    [{ KAFKA_BROKERS: "localhost" }, /^KAFKA_BROKERS:/],
    [{ MONGODB_URI: "postgres://x" }, /^MONGODB_URI:/],
    [{ S3_BUCKET: "b", S3_ENDPOINT: "not a url" }, /^S3_ENDPOINT:/],
  ];
  for (const [env, message] of cases) {
    assert.throws(() => loadConfig(env), (err: unknown) => err instanceof ConfigError && message.test(err.message));
  }
});

Deno.test("tile templates with a {s} subdomain are accepted", () => {
  assert.equal(
    loadConfig({ TILE_URL: "https://{s}.tile.example.org/{z}/{x}/{y}.png" }).tileUrl,
    "https://{s}.tile.example.org/{z}/{x}/{y}.png",
  );
});
