/**
 * Every setting of the service: its environment variable, its default and its check,
 * read once at start-up. A bad value stops start-up with a message naming the variable,
 * so a typo in a deployment fails loudly instead of running with a surprise.
 */

export interface Config {
  host: string;
  port: number;
  instanceId: string;
  dataDir: string;
  alertRadiusM: number;
  locationTtlS: number;
  alertTtlS: number;
  /** How long Kafka keeps `enriched_alerts` (who was told of each alert); at least alertTtlS. */
  enrichedRetentionS: number;
  simulate: boolean;
  simCenter: { lat: number; lng: number };
  simSpreadM: number;
  simUsers: number;
  simReportIntervalS: number;
  tileUrl: string;
  tileAttribution: string;
  archiveFlushS: number;
  archiveMaxRecords: number;
  logLevel: "debug" | "info" | "warn" | "error";
  /** HMAC key for user tokens; undefined: generated once and kept in DATA_DIR. */
  authSecret?: string;
  /** Bearer token for operator views (all real users' positions); undefined: none. */
  adminToken?: string;
  /** Take the client address from X-Forwarded-For (only behind a proxy you run). */
  trustProxy: boolean;
  corsOrigins: string[];
  limits: {
    reportsPerUser: RateLimit;
    reportsPerAddress: RateLimit;
    locationsPerUser: RateLimit;
    identitiesPerAddress: RateLimit;
  };
  /** How close and how recent a second report of the same type must be to join an alert. */
  dedupe: { radiusM: number; windowS: number };
  /** "Gone" votes that end an alert early. */
  goneVotesToEnd: number;
  kafka?: {
    brokers: string[];
    clientId: string;
    /** Prepended to every topic and consumer group: several deployments (or test runs) can share a cluster. */
    topicPrefix: string;
    partitions: number;
    replicationFactor: number;
    ssl: boolean;
    sasl?: { mechanism: "plain" | "scram-sha-256" | "scram-sha-512"; username: string; password: string };
  };
  mongo?: { uri: string; database: string };
  s3?: { bucket: string; endpoint?: string; region: string; prefix: string; forcePathStyle: boolean };
}

/** At most `count` requests per `windowS` seconds. */
export interface RateLimit {
  count: number;
  windowS: number;
}

export class ConfigError extends Error {
  constructor(readonly variable: string, reason: string) {
    super(`${variable}: ${reason}`);
    this.name = "ConfigError";
  }
}

type Env = Record<string, string | undefined>;

function text(env: Env, name: string, fallback: string): string {
  const v = env[name]?.trim();
  return v === undefined || v === "" ? fallback : v;
}

function optional(env: Env, name: string): string | undefined {
  const v = env[name]?.trim();
  return v === undefined || v === "" ? undefined : v;
}

function number(env: Env, name: string, fallback: number, min: number, max: number, integer = true): number {
  const raw = optional(env, name);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || (integer && !Number.isInteger(n))) {
    throw new ConfigError(name, `expected ${integer ? "a whole number" : "a number"}, got "${raw}"`);
  }
  if (n < min || n > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${n}`);
  return n;
}

function flag(env: Env, name: string, fallback: boolean): boolean {
  const raw = optional(env, name)?.toLowerCase();
  if (raw === undefined) return fallback;
  if (["on", "true", "1", "yes"].includes(raw)) return true;
  if (["off", "false", "0", "no"].includes(raw)) return false;
  throw new ConfigError(name, `expected on or off, got "${raw}"`);
}

function oneOf<T extends string>(env: Env, name: string, fallback: T, allowed: readonly T[]): T {
  const raw = optional(env, name)?.toLowerCase();
  if (raw === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(raw)) {
    throw new ConfigError(name, `expected one of ${allowed.join(", ")}, got "${raw}"`);
  }
  return raw as T;
}

function rate(env: Env, name: string, fallback: RateLimit): RateLimit {
  const raw = optional(env, name);
  if (raw === undefined) return fallback;
  const m = /^(\d+)\s*\/\s*(\d+)$/.exec(raw);
  if (!m || Number(m[1]) < 1 || Number(m[2]) < 1) {
    throw new ConfigError(name, `expected "count/seconds" like "5/600", got "${raw}"`);
  }
  return { count: Number(m[1]), windowS: Number(m[2]) };
}

function latLng(env: Env, name: string, fallback: { lat: number; lng: number }) {
  const raw = optional(env, name);
  if (raw === undefined) return fallback;
  const parts = raw.split(",").map((p) => Number(p.trim()));
  if (parts.length !== 2 || parts.some((p) => !Number.isFinite(p))) {
    throw new ConfigError(name, `expected "lat,lng", got "${raw}"`);
  }
  const [lat, lng] = parts;
  if (lat < -90 || lat > 90) throw new ConfigError(name, `latitude must be between -90 and 90, got ${lat}`);
  if (lng < -180 || lng > 180) throw new ConfigError(name, `longitude must be between -180 and 180, got ${lng}`);
  return { lat, lng };
}

function url(env: Env, name: string, fallback?: string): string | undefined {
  const raw = optional(env, name) ?? fallback;
  if (raw === undefined) return undefined;
  // Tile templates hold {z}/{x}/{y} (path text URL() accepts) and maybe a {s} subdomain (which it does not).
  try {
    const u = new URL(raw.replace("{s}", "a"));
    if (u.protocol !== "http:" && u.protocol !== "https:") throw new Error();
  } catch {
    throw new ConfigError(name, `expected an http(s) URL, got "${raw}"`);
  }
  return raw;
}

export function loadConfig(env: Env = Deno.env.toObject()): Config {
  const brokers = optional(env, "KAFKA_BROKERS");
  const mongoUri = optional(env, "MONGODB_URI");
  const bucket = optional(env, "S3_BUCKET");
  const config: Config = {
    host: text(env, "HOST", "0.0.0.0"),
    port: number(env, "PORT", 8000, 0, 65535),
    // Stable across restarts on one host, so a restarted instance fences its own unfinished
    // Kafka transactions at once; several instances on one host must each set their own.
    instanceId: text(env, "INSTANCE_ID", Deno.hostname()),
    dataDir: text(env, "DATA_DIR", "./data"),
    alertRadiusM: number(env, "ALERT_RADIUS_M", 500, 1, 50_000),
    locationTtlS: number(env, "LOCATION_TTL_S", 300, 10, 86_400),
    alertTtlS: number(env, "ALERT_TTL_S", 600, 10, 86_400),
    enrichedRetentionS: number(env, "ENRICHED_RETENTION_S", 3_600, 60, 30 * 86_400),
    simulate: flag(env, "SIMULATE", true),
    simCenter: latLng(env, "SIM_CENTER", { lat: 32.0853, lng: 34.7818 }),
    simSpreadM: number(env, "SIM_SPREAD_M", 3_000, 100, 100_000),
    simUsers: number(env, "SIM_USERS", 500, 0, 2_000_000),
    simReportIntervalS: number(env, "SIM_REPORT_INTERVAL_S", 10, 1, 3_600),
    tileUrl: url(env, "TILE_URL", "https://tile.openstreetmap.org/{z}/{x}/{y}.png")!,
    tileAttribution: text(env, "TILE_ATTRIBUTION", "© OpenStreetMap contributors"),
    archiveFlushS: number(env, "ARCHIVE_FLUSH_S", 10, 1, 3_600),
    archiveMaxRecords: number(env, "ARCHIVE_MAX_RECORDS", 1_000, 1, 1_000_000),
    logLevel: oneOf(env, "LOG_LEVEL", "info", ["debug", "info", "warn", "error"] as const),
    authSecret: optional(env, "AUTH_SECRET"),
    adminToken: optional(env, "ADMIN_TOKEN"),
    trustProxy: flag(env, "TRUST_PROXY", false),
    corsOrigins: (optional(env, "CORS_ORIGINS") ?? "").split(",").map((o) => o.trim()).filter(Boolean),
    limits: {
      reportsPerUser: rate(env, "RATE_REPORTS_PER_USER", { count: 5, windowS: 600 }),
      reportsPerAddress: rate(env, "RATE_REPORTS_PER_ADDRESS", { count: 30, windowS: 600 }),
      locationsPerUser: rate(env, "RATE_LOCATIONS_PER_USER", { count: 1, windowS: 1 }),
      identitiesPerAddress: rate(env, "RATE_IDENTITIES_PER_ADDRESS", { count: 10, windowS: 3600 }),
    },
    dedupe: {
      radiusM: number(env, "DEDUPE_RADIUS_M", 150, 0, 5_000),
      windowS: number(env, "DEDUPE_WINDOW_S", 300, 0, 86_400),
    },
    goneVotesToEnd: number(env, "GONE_VOTES_TO_END", 3, 1, 1_000),
  };
  if (config.authSecret !== undefined && config.authSecret.length < 32) {
    throw new ConfigError("AUTH_SECRET", "must be at least 32 characters");
  }
  if (config.adminToken !== undefined && config.adminToken.length < 16) {
    throw new ConfigError("ADMIN_TOKEN", "must be at least 16 characters");
  }
  for (const origin of config.corsOrigins) {
    if (!/^https?:\/\/[^/\s]+$/.test(origin)) {
      throw new ConfigError("CORS_ORIGINS", `expected origins like https://app.example.org, got "${origin}"`);
    }
  }
  if (brokers) {
    const list = brokers.split(",").map((b) => b.trim()).filter(Boolean);
    for (const b of list) {
      if (!/^[^\s:]+:\d{1,5}$/.test(b)) {
        throw new ConfigError("KAFKA_BROKERS", `expected host:port[,host:port], got "${b}"`);
      }
    }
    const prefix = text(env, "KAFKA_TOPIC_PREFIX", "");
    if (!/^[A-Za-z0-9._-]*$/.test(prefix)) {
      throw new ConfigError("KAFKA_TOPIC_PREFIX", "may hold only letters, digits, '.', '_' and '-'");
    }
    const mechanism = optional(env, "KAFKA_SASL_MECHANISM");
    config.kafka = {
      brokers: list,
      clientId: text(env, "KAFKA_CLIENT_ID", "alertcircle"),
      topicPrefix: prefix,
      partitions: number(env, "KAFKA_PARTITIONS", 6, 1, 1_000),
      replicationFactor: number(env, "KAFKA_REPLICATION_FACTOR", 1, 1, 10),
      ssl: flag(env, "KAFKA_SSL", false),
    };
    if (mechanism) {
      config.kafka.sasl = {
        mechanism: oneOf(env, "KAFKA_SASL_MECHANISM", "plain", ["plain", "scram-sha-256", "scram-sha-512"] as const),
        username: text(env, "KAFKA_SASL_USERNAME", ""),
        password: text(env, "KAFKA_SASL_PASSWORD", ""),
      };
      if (!config.kafka.sasl.username) {
        throw new ConfigError("KAFKA_SASL_USERNAME", "required with KAFKA_SASL_MECHANISM");
      }
    }
  }
  if (mongoUri) {
    if (!/^mongodb(\+srv)?:\/\//.test(mongoUri)) {
      throw new ConfigError("MONGODB_URI", "expected a mongodb:// or mongodb+srv:// URI");
    }
    config.mongo = { uri: mongoUri, database: text(env, "MONGODB_DATABASE", "AlertCircleProject") };
  }
  if (bucket) {
    config.s3 = {
      bucket,
      endpoint: url(env, "S3_ENDPOINT"),
      region: text(env, "S3_REGION", text(env, "AWS_REGION", "us-east-1")),
      prefix: text(env, "S3_PREFIX", "enriched-alerts"),
      forcePathStyle: flag(env, "S3_FORCE_PATH_STYLE", optional(env, "S3_ENDPOINT") !== undefined),
    };
  }
  return config;
}

/** The configuration as it is safe to print: passwords and credentials masked. */
export function describeConfig(config: Config): Record<string, unknown> {
  const mask = (uri: string) => uri.replace(/\/\/([^:@/]+):([^@/]+)@/, "//$1:****@");
  return {
    ...config,
    kafka: config.kafka && {
      ...config.kafka,
      sasl: config.kafka.sasl && { ...config.kafka.sasl, password: "****" },
    },
    mongo: config.mongo && { ...config.mongo, uri: mask(config.mongo.uri) },
    authSecret: config.authSecret && "****",
    adminToken: config.adminToken && "****",
  };
}
