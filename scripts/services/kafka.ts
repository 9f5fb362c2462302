/**
 * A real single-node Apache Kafka (KRaft, broker and controller in one JVM) on 127.0.0.1,
 * for tests, benchmarks and `deno task services:up`.
 *
 * `provision(cacheDir)` fetches the broker jars from Maven Central once (no Docker and
 * no kafka.apache.org downloads here, but Maven Central is reachable); `start(options)`
 * writes a config into the data dir, formats the storage, runs `kafka.Kafka` and returns
 * only once kafkajs can really use the broker; `stopPid(pid)` stops a detached one later.
 *
 * Why Kafka 4.4.0, the newest 4.x on Maven Central, is fine with kafkajs 2.2.4:
 * Kafka 4.0 removed old protocol API versions (KIP-896). Clients that hard-code old
 * versions broke on it (e.g. JoinGroup v0/v1, which 4.0.1/4.1.0 then re-admitted, or
 * Metadata v0/v1). kafkajs instead takes the highest version both sides list in
 * ApiVersions, and every API it implements still overlaps with 4.4.0's ranges. The
 * broker's request log showed kafkajs using Produce v7, Fetch v11, ListOffsets v3,
 * Metadata v6, OffsetCommit v5, OffsetFetch v4, FindCoordinator v2, JoinGroup v5,
 * SyncGroup v3, LeaveGroup v3, DescribeGroups v2, ListGroups v2, InitProducerId v1,
 * CreateTopics v3, DeleteTopics v1 and DescribeConfigs v2, where 4.4.0's minimums are
 * Fetch 4, ListOffsets 1, OffsetCommit 2, OffsetFetch 1, CreateTopics 2, DeleteTopics 1,
 * DescribeConfigs 1 and 0 for the rest; kafkajs's other requests (Heartbeat v3,
 * CreatePartitions v1, DeleteRecords v1, AlterConfigs v1, the ACL and transaction APIs
 * v1) are inside 4.4.0's ranges too. Exercised for real against 4.4.0: an idempotent
 * producer (`idempotent: true, maxInFlightRequests: 1`), a consumer group committing by
 * hand, a `cleanup.policy=compact` topic with a tombstone, admin createTopics /
 * listTopics / fetchTopicMetadata / fetchTopicOffsets / fetchTopicOffsetsByTimestamp /
 * fetchOffsets / describeGroups / describeConfigs / listGroups / deleteTopics, and a
 * transactional producer (commit, abort, sendOffsets; 4.4.0 formats with
 * transaction.version 2, but kafkajs's v1 requests get the old protocol). Nothing failed,
 * so there was no reason to fall back to an older Kafka. What kafkajs does log: ERROR
 * lines for retriable first-use errors (COORDINATOR_NOT_AVAILABLE while
 * __consumer_offsets is created, COORDINATOR_LOAD_IN_PROGRESS from InitProducerId), which
 * `start` now absorbs by warming both up, and, under Deno, a harmless
 * TimeoutNegativeWarning from its request queue calling setTimeout with a negative delay.
 */

import { Kafka, logLevel, Partitioners } from "kafkajs";
import { exists, freePort, isAlive, type RunningService, type StartOptions } from "./service.ts";

/** The Apache Kafka release `provision` fetches and `start` runs. */
export const KAFKA_VERSION = "4.4.0";

/**
 * The Log4j 2 release Kafka 4.4.0 itself depends on (log4j-api/log4j-core arrive
 * transitively). The SLF4J binding is not a dependency of the kafka_2.13 artifact (the
 * release tarball adds it), and without it every log line from Kafka's Java modules,
 * which log through SLF4J, would be dropped; it has to match log4j-api exactly.
 */
const LOG4J_VERSION = "2.25.5";

/** Pinned so the build does not depend on the plugin version Maven 3.8 defaults to. */
const DEPENDENCY_PLUGIN = "org.apache.maven.plugins:maven-dependency-plugin:3.8.1";

export interface KafkaStartOptions extends StartOptions {
  /** Default partition count for auto-created topics (`num.partitions`), default 6. */
  partitions?: number;
  /**
   * Run the broker in its own session with output to files, so it keeps running after
   * this Deno process exits (`services:up`); stop it later with `stopPid(pid)`.
   */
  detached?: boolean;
  /** JVM heap limit, default "512m". */
  heap?: string;
  /** How long to wait for the broker to be usable, default 60 s. */
  readyTimeoutMs?: number;
}

/** Where `provision` puts everything for one Kafka version. */
function kafkaHome(cacheDir: string): string {
  return `${cacheDir}/kafka-${KAFKA_VERSION}`;
}

/** Written last by `provision`, so its presence means the libs folder is complete. */
function markerPath(cacheDir: string): string {
  return `${kafkaHome(cacheDir)}/.provisioned`;
}

function log(message: string): void {
  console.log(`[kafka] ${message}`);
}

/** A pom whose only job is to pull the broker and what it needs at runtime. */
function provisioningPom(): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>alertcircle.local</groupId>
  <artifactId>kafka-runtime</artifactId>
  <version>${KAFKA_VERSION}</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.apache.kafka</groupId>
      <artifactId>kafka_2.13</artifactId>
      <version>${KAFKA_VERSION}</version>
    </dependency>
    <dependency>
      <groupId>org.apache.logging.log4j</groupId>
      <artifactId>log4j-slf4j-impl</artifactId>
      <version>${LOG4J_VERSION}</version>
      <scope>runtime</scope>
    </dependency>
  </dependencies>
</project>
`;
}

/**
 * Fetches `org.apache.kafka:kafka_2.13:KAFKA_VERSION` and its runtime dependencies
 * into `<cacheDir>/kafka-<version>/libs/`. Returns at once when that was done before.
 */
export async function provision(cacheDir: string): Promise<void> {
  const home = kafkaHome(cacheDir);
  if (await exists(markerPath(cacheDir))) return;

  const began = performance.now();
  log(`provisioning Kafka ${KAFKA_VERSION} with Maven into ${home}/libs`);
  await Deno.mkdir(home, { recursive: true });
  const pom = `${home}/pom.xml`;
  await Deno.writeTextFile(pom, provisioningPom());

  // Jars land in a scratch folder that is renamed into place, so a run that dies
  // half-way (or a second provision running at the same time) never leaves a partial
  // libs folder behind the marker.
  const scratch = `${home}/libs.partial-${crypto.randomUUID()}`;
  const args = [
    "-B",
    "-q",
    "-f",
    pom,
    // A repository of our own keeps ~/.m2 untouched and makes deleting the cache a
    // complete reset; it also makes a later re-provision work offline.
    `-Dmaven.repo.local=${cacheDir}/maven-repository`,
    `${DEPENDENCY_PLUGIN}:copy-dependencies`,
    `-DoutputDirectory=${scratch}`,
    "-DincludeScope=runtime",
  ];
  let output: Deno.CommandOutput;
  try {
    output = await new Deno.Command("mvn", {
      args,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      throw new Error(
        "`mvn` is not on PATH: Maven is needed to fetch Kafka's jars",
      );
    }
    throw err;
  }
  if (!output.success) {
    await Deno.remove(scratch, { recursive: true }).catch(() => {});
    const text = new TextDecoder().decode(output.stdout) +
      new TextDecoder().decode(output.stderr);
    throw new Error(`mvn ${args.join(" ")} failed:\n${lastLines(text, 40)}`);
  }

  const jars: string[] = [];
  for await (const entry of Deno.readDir(scratch)) {
    if (entry.name.endsWith(".jar")) jars.push(entry.name);
  }
  for (
    const needed of [
      `kafka_2.13-${KAFKA_VERSION}.jar`,
      `kafka-clients-${KAFKA_VERSION}.jar`,
      `log4j-core-${LOG4J_VERSION}.jar`,
      `log4j-slf4j-impl-${LOG4J_VERSION}.jar`,
    ]
  ) {
    if (!jars.includes(needed)) {
      // Most likely a new Kafka release moved to another Log4j: bump LOG4J_VERSION.
      throw new Error(
        `provisioned libs lack ${needed}; found: ${jars.sort().join(", ")}`,
      );
    }
  }

  const libs = `${home}/libs`;
  await Deno.remove(libs, { recursive: true }).catch(() => {});
  // Class-data-sharing archives record the jars they were made from.
  await Deno.remove(`${home}/cds`, { recursive: true }).catch(() => {});
  try {
    await Deno.rename(scratch, libs);
  } catch (err) {
    // Another provision won the race; its libs are just as good.
    if (!(await exists(libs))) throw err;
    await Deno.remove(scratch, { recursive: true }).catch(() => {});
  }
  await Deno.writeTextFile(
    markerPath(cacheDir),
    `${JSON.stringify({ kafka: KAFKA_VERSION, jars: jars.sort() }, null, 2)}\n`,
  );
  const seconds = ((performance.now() - began) / 1000).toFixed(1);
  log(`provisioned ${jars.length} jars in ${seconds}s`);
}

/**
 * Kafka's cluster ids are 16 random bytes in unpadded base64url (22 characters). One in
 * 64 starts with "-", which kafka-storage's argument parser takes for an option
 * ("--cluster-id: expected one argument"); Kafka's own generator skips those, and so
 * does this.
 */
export function randomClusterId(): string {
  for (;;) {
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    const id = btoa(String.fromCharCode(...bytes))
      .replaceAll("+", "-")
      .replaceAll("/", "_")
      .replace(/=+$/, "");
    if (!id.startsWith("-")) return id;
  }
}

function serverProperties(
  o: {
    port: number;
    controllerPort: number;
    logDirs: string;
    partitions: number;
  },
): string {
  return [
    "# Written by scripts/services/kafka.ts for a throwaway single-node broker.",
    "process.roles=broker,controller",
    "node.id=1",
    // Loopback only, for clients and for the controller alike.
    `listeners=PLAINTEXT://127.0.0.1:${o.port},CONTROLLER://127.0.0.1:${o.controllerPort}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${o.port}`,
    "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
    "controller.listener.names=CONTROLLER",
    "inter.broker.listener.name=PLAINTEXT",
    // A static voter set rather than `format --standalone` (a dynamic quorum): the
    // dynamic one records the controller's endpoint in the formatted storage, while a
    // static one lets a kept data dir be started again on different free ports.
    `controller.quorum.voters=1@127.0.0.1:${o.controllerPort}`,
    `log.dirs=${o.logDirs}`,
    `num.partitions=${o.partitions}`,
    // Topic auto-creation stays at Kafka's default (on): producers and tests may rely on it.
    // One broker, so every internal topic must make do with one replica.
    "default.replication.factor=1",
    "offsets.topic.replication.factor=1",
    "transaction.state.log.replication.factor=1",
    "transaction.state.log.min.isr=1",
    "share.coordinator.state.topic.replication.factor=1",
    "share.coordinator.state.topic.min.isr=1",
    // The internal topics default to 50 partitions each; a handful is plenty for one
    // broker and makes the first consumer group / producer id request much quicker.
    "offsets.topic.num.partitions=5",
    "transaction.state.log.num.partitions=5",
    "share.coordinator.state.topic.num.partitions=5",
    // Consumer groups form immediately instead of waiting 3 s for more members.
    "group.initial.rebalance.delay.ms=0",
    // Deleted topics' files go away promptly instead of after a minute.
    "log.segment.delete.delay.ms=1000",
    // Expired records (user_locations keeps only LOCATION_TTL_S) are deleted within 5 s
    // of expiring, not up to 5 minutes later. Production brokers want the same.
    "log.retention.check.interval.ms=5000",
    "",
  ].join("\n");
}

/** Log4j 2 config: everything to one file in the data dir, nothing on stdout. */
function log4jProperties(logFile: string): string {
  return [
    "status = warn",
    // Log4j's own shutdown hook would race Kafka's and close the log file while the
    // broker is still logging its shutdown (the rest then lands on stderr).
    "shutdownHook = disable",
    "appender.file.type = File",
    "appender.file.name = file",
    `appender.file.fileName = ${logFile}`,
    "appender.file.layout.type = PatternLayout",
    "appender.file.layout.pattern = [%d] %p %m (%c)%n",
    "rootLogger.level = INFO",
    "rootLogger.appenderRef.file.ref = file",
    // Each component dumps its full config (hundreds of lines) at INFO; not useful here.
    "logger.config.name = org.apache.kafka.common.config.AbstractConfig",
    "logger.config.level = WARN",
    "logger.state.name = state.change.logger",
    "logger.state.level = WARN",
    "",
  ].join("\n");
}

function javaBinary(): string {
  const javaHome = Deno.env.get("JAVA_HOME");
  return javaHome ? `${javaHome}/bin/java` : "java";
}

/** Turns "no such program" into an error that says what to install. */
function explainMissingJava(err: unknown): unknown {
  return err instanceof Deno.errors.NotFound
    ? new Error(
      `${javaBinary()} not found: Kafka ${KAFKA_VERSION} needs Java 17 or newer`,
    )
    : err;
}

/** The JDK folder behind `javaBinary()` (following /usr/bin/java's symlinks), if found. */
async function javaHomeDir(): Promise<string | undefined> {
  const binary = javaBinary();
  const candidates = binary.includes("/")
    ? [binary]
    : (Deno.env.get("PATH") ?? "").split(":").filter(Boolean).map((dir) => `${dir}/java`);
  for (const candidate of candidates) {
    try {
      return (await Deno.realPath(candidate)).replace(/\/bin\/java$/, "");
    } catch {
      // Not in this PATH entry.
    }
  }
  return undefined;
}

interface ClassDataSharing {
  /** JVM flags: use the archive, or record one at exit when there is none yet. */
  flags: string[];
  /** Call once the JVM has exited: keeps a freshly recorded archive if it exited cleanly. */
  finish(cleanExit: boolean): Promise<void>;
}

/**
 * Most of Kafka's startup on a small machine is class loading: ~7 s from JVM launch to
 * "Kafka Server started" here, ~4 s with an AppCDS archive, without touching the JIT
 * (C1-only would also start fast but would slow benchmarks down). The first run of a
 * program records an archive when it exits (`-XX:ArchiveClassesAtExit`); later runs map
 * it. Archives are keyed by the JDK build, and a stale one costs nothing: the JVM checks
 * it and quietly runs without.
 */
async function classDataSharing(
  home: string,
  program: string,
  record: boolean,
): Promise<ClassDataSharing> {
  const none = { flags: [], finish: () => Promise.resolve() };
  const jdk = await javaHomeDir();
  if (!jdk) return none;
  let jdkId: string;
  try {
    // Dynamic archives sit on top of the JDK's base archive; without one the JVM
    // refuses to start with -XX:ArchiveClassesAtExit.
    const base = await Deno.stat(`${jdk}/lib/server/classes.jsa`);
    const jvm = await Deno.stat(`${jdk}/lib/server/libjvm.so`);
    jdkId = await shortHash(
      `${jdk}|${jvm.size}|${jvm.mtime?.getTime()}|${base.size}`,
    );
  } catch {
    return none;
  }
  const dir = `${home}/cds`;
  const archive = `${dir}/${program}-${jdkId}.jsa`;
  if (await exists(archive)) {
    return { ...none, flags: [`-XX:SharedArchiveFile=${archive}`] };
  }
  if (!record) return none;
  await Deno.mkdir(dir, { recursive: true });
  // A unique name per run: concurrent first runs each record their own, last one wins.
  const recording = `${archive}.${crypto.randomUUID()}.partial`;
  return {
    flags: [`-XX:ArchiveClassesAtExit=${recording}`],
    finish: async (cleanExit) => {
      if (!(await exists(recording))) return;
      // An archive cut short by SIGKILL is useless; the next clean run records another.
      if (cleanExit) await Deno.rename(recording, archive);
      else await Deno.remove(recording).catch(() => {});
    },
  };
}

async function shortHash(text: string): Promise<string> {
  const digest = await crypto.subtle.digest(
    "SHA-256",
    new TextEncoder().encode(text),
  );
  return Array.from(
    new Uint8Array(digest).slice(0, 6),
    (b) => b.toString(16).padStart(2, "0"),
  )
    .join("");
}

function jvmArgs(heap: string, log4jConfig: string): string[] {
  return [
    `-Xmx${heap}`,
    // What Kafka's own start script uses; G1 must be asked for explicitly because the
    // JVM falls back to Serial GC on machines with fewer than 2 CPUs or < 1792 MB.
    "-XX:+UseG1GC",
    "-XX:MaxGCPauseMillis=20",
    "-XX:InitiatingHeapOccupancyPercent=35",
    "-XX:+ExplicitGCInvokesConcurrent",
    // Die instead of limping on when the heap is too small for a benchmark.
    "-XX:+ExitOnOutOfMemoryError",
    // No hsperfdata files in /tmp for every test broker.
    "-XX:-UsePerfData",
    "-Djava.awt.headless=true",
    `-Dlog4j2.configurationFile=${log4jConfig}`,
  ];
}

function lastLines(text: string, count: number): string {
  return text.trimEnd().split("\n").slice(-count).join("\n");
}

/** True while `pid` exists and has not exited (a zombie awaiting its parent counts as gone). */

function signal(pid: number, sig: Deno.Signal): void {
  try {
    Deno.kill(pid, sig);
  } catch {
    // Already gone.
  }
}

async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid)) {
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return true;
}

/**
 * SIGTERM, then SIGKILL if the broker has not exited after `graceMs`. Resolves to
 * whether it was running and shut down cleanly on SIGTERM.
 */
async function terminate(pid: number, graceMs: number): Promise<boolean> {
  if (!isAlive(pid)) return false;
  signal(pid, "SIGTERM");
  if (await waitForExit(pid, graceMs)) return true;
  console.warn(
    `[kafka] pid ${pid} ignored SIGTERM for ${graceMs} ms; sending SIGKILL`,
  );
  signal(pid, "SIGKILL");
  if (!(await waitForExit(pid, 5_000))) {
    throw new Error(`Kafka (pid ${pid}) did not exit after SIGKILL`);
  }
  return false;
}

/**
 * Stops a broker by process id, e.g. one `start({ detached: true })` left running for
 * `services:down`. Refuses pids that are not a Kafka broker, since pids get reused.
 */
export async function stopPid(pid: number, graceMs = 15_000): Promise<void> {
  if (!isAlive(pid)) return;
  let cmdline = "";
  try {
    cmdline = Deno.readTextFileSync(`/proc/${pid}/cmdline`).replaceAll(
      "\0",
      " ",
    );
  } catch {
    return; // Exited meanwhile.
  }
  if (!cmdline.includes("kafka.Kafka")) {
    throw new Error(
      `pid ${pid} is not a Kafka broker (${cmdline.slice(0, 120)})`,
    );
  }
  await terminate(pid, graceMs);
}

/** Runs the storage formatter once for a fresh data dir (a kept one is reused as is). */
async function formatStorage(
  home: string,
  propertiesFile: string,
  log4jConfig: string,
  logDirs: string,
): Promise<void> {
  if (await exists(`${logDirs}/meta.properties`)) return;
  const cds = await classDataSharing(home, "storage-tool", true);
  const formatter = new Deno.Command(javaBinary(), {
    args: [
      "-Xmx256m",
      // A short-lived tool: the quick-starting compiler and collector suit it best.
      "-XX:TieredStopAtLevel=1",
      "-XX:+UseSerialGC",
      "-XX:-UsePerfData",
      ...cds.flags,
      `-Dlog4j2.configurationFile=${log4jConfig}`,
      "-cp",
      `${home}/libs/*`,
      "kafka.tools.StorageTool",
      "format",
      "--cluster-id",
      randomClusterId(),
      "--config",
      propertiesFile,
      // Tolerate a dir formatted by an earlier run that died before writing meta.properties
      // everywhere; the static voter set means no --standalone / --initial-controllers.
      "--ignore-formatted",
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  });
  const output = await formatter.output().catch((err) => {
    throw explainMissingJava(err);
  });
  await cds.finish(output.success);
  if (!output.success) {
    const text = new TextDecoder().decode(output.stdout) +
      new TextDecoder().decode(output.stderr);
    throw new Error(`kafka-storage format failed:\n${lastLines(text, 40)}`);
  }
}

/** Reads the pid the wrapper shell wrote (it then became the JVM through `exec`). */
async function readPid(
  pidFile: string,
  child: Deno.ChildProcess,
): Promise<number> {
  let exited = false;
  child.status.then(() => (exited = true));
  const deadline = Date.now() + 5_000;
  while (Date.now() < deadline) {
    try {
      const pid = Number.parseInt(
        (await Deno.readTextFile(pidFile)).trim(),
        10,
      );
      if (pid > 0) return pid;
    } catch {
      // Not written yet.
    }
    if (exited) break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return child.pid;
}

/**
 * Polls until a kafkajs admin client can connect, create a topic and see it listed, the
 * group coordinator answers and an idempotent producer gets a producer id, i.e. until
 * tests can use the broker right away without tripping over first-use retries.
 */
async function waitUntilReady(
  port: number,
  pid: number,
  timeoutMs: number,
  logFiles: string[],
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const probeTopic = "alertcircle-readiness-probe";
  let lastError = "broker port not open yet";
  while (Date.now() < deadline) {
    if (!isAlive(pid)) {
      throw new Error(
        `Kafka exited during startup.\n${await describeLogs(logFiles)}`,
      );
    }
    // A plain TCP connect fails fast and quietly while the JVM is still booting.
    try {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      conn.close();
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 200));
      continue;
    }
    const kafka = new Kafka({
      clientId: "alertcircle-readiness",
      brokers: [`127.0.0.1:${port}`],
      logLevel: logLevel.NOTHING,
      connectionTimeout: 1_000,
      requestTimeout: 5_000,
      retry: { retries: 3, initialRetryTime: 100, maxRetryTime: 1_000 },
    });
    const admin = kafka.admin();
    const producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    try {
      await admin.connect();
      await admin.createTopics({
        topics: [{ topic: probeTopic, numPartitions: 1 }],
        waitForLeaders: true,
      });
      const topics = await admin.listTopics();
      if (!topics.includes(probeTopic)) {
        throw new Error("probe topic not listed yet");
      }
      // Makes the broker create __consumer_offsets now rather than on a test's first join.
      await admin.fetchOffsets({
        groupId: "alertcircle-readiness",
        topics: [probeTopic],
      });
      // The broker hands out producer ids in blocks it first has to get from the
      // controller; until then InitProducerId answers COORDINATOR_LOAD_IN_PROGRESS.
      await producer.connect();
      await producer.send({
        topic: probeTopic,
        acks: -1,
        messages: [{ value: "ready" }],
      });
      // Leaves the topic list as a test would expect to find it.
      await admin.deleteTopics({ topics: [probeTopic] });
      return;
    } catch (err) {
      lastError = err instanceof Error ? err.message : String(err);
      await new Promise((resolve) => setTimeout(resolve, 250));
    } finally {
      await producer.disconnect().catch(() => {});
      await admin.disconnect().catch(() => {});
    }
  }
  throw new Error(
    `Kafka was not ready within ${timeoutMs} ms (last error: ${lastError}).\n${await describeLogs(
      logFiles,
    )}`,
  );
}

/**
 * The first ERROR/FATAL entries (with the exception line under each) followed by the
 * tail of each file: when startup fails, the tail is mostly the orderly shutdown that
 * followed, while the cause was logged earlier.
 */
async function describeLogs(files: string[]): Promise<string> {
  const parts: string[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = await Deno.readTextFile(file);
    } catch {
      parts.push(`--- ${file}: (missing)`);
      continue;
    }
    const lines = text.split("\n");
    const errors: string[] = [];
    for (let i = 0; i < lines.length && errors.length < 12; i++) {
      if (!/^\[[^\]]+\] (ERROR|FATAL) /.test(lines[i])) continue;
      errors.push(lines[i]);
      if (lines[i + 1] && !lines[i + 1].startsWith("[")) {
        errors.push(`    ${lines[i + 1]}`);
      }
    }
    if (errors.length > 0) {
      parts.push(`--- errors in ${file}\n${errors.join("\n")}`);
    }
    parts.push(`--- tail of ${file}\n${lastLines(text, 30) || "(empty)"}`);
  }
  return parts.join("\n");
}

/**
 * Starts a single-node Kafka on 127.0.0.1 with its data, config and logs in
 * `opts.dataDir` (`kafka.log` from Log4j, `kafka.out` for the JVM's own stdout/stderr),
 * provisioning first if needed. Resolves once the broker is usable.
 */
export async function start(opts: KafkaStartOptions): Promise<RunningService> {
  await provision(opts.cacheDir);
  const home = kafkaHome(opts.cacheDir);
  const libs = `${home}/libs`;
  const dataDir = opts.dataDir;
  await Deno.mkdir(dataDir, { recursive: true });

  const port = opts.port || freePort();
  let controllerPort = freePort();
  while (controllerPort === port) controllerPort = freePort();

  const logDirs = `${dataDir}/kraft-data`;
  const propertiesFile = `${dataDir}/server.properties`;
  const log4jConfig = `${dataDir}/log4j2.properties`;
  const logFile = `${dataDir}/kafka.log`;
  const outFile = `${dataDir}/kafka.out`;
  const pidFile = `${dataDir}/kafka.pid`;
  await Deno.writeTextFile(
    propertiesFile,
    serverProperties({
      port,
      controllerPort,
      logDirs,
      partitions: opts.partitions ?? 6,
    }),
  );
  await Deno.writeTextFile(log4jConfig, log4jProperties(logFile));
  await Deno.remove(pidFile).catch(() => {});

  const began = performance.now();
  await formatStorage(home, propertiesFile, log4jConfig, logDirs);
  // A detached broker is stopped by another process, which could not keep what this
  // one recorded, so only attached runs record an archive.
  const cds = await classDataSharing(home, "broker", !opts.detached);

  // A tiny shell wrapper gives the JVM file-backed stdout/stderr (Deno.Command can only
  // pipe, inherit or drop them) and records its pid; `exec` keeps that pid the JVM's.
  const wrapper = 'echo $$ > "$1"; out="$2"; shift 2; exec "$@" >>"$out" 2>&1 </dev/null';
  const command = [
    "sh",
    "-c",
    wrapper,
    "kafka-wrapper",
    pidFile,
    outFile,
    javaBinary(),
    ...jvmArgs(opts.heap ?? "512m", log4jConfig),
    ...cds.flags,
    "-cp",
    `${libs}/*`,
    "kafka.Kafka",
    propertiesFile,
  ];
  // setsid puts a detached broker in a session of its own, so neither Ctrl-C in the
  // terminal nor the terminal closing (SIGINT/SIGHUP to our process group) reaches it.
  if (opts.detached) command.unshift("setsid");
  const child = new Deno.Command(command[0], {
    args: command.slice(1),
    cwd: dataDir,
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  // A detached broker must not keep this Deno process alive.
  if (opts.detached) child.unref();
  const pid = await readPid(pidFile, child);

  // An attached broker should not outlive a test run that forgets (or fails) to stop it.
  const onUnload = () => signal(pid, "SIGTERM");
  if (!opts.detached) globalThis.addEventListener("unload", onUnload);

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    stopping ??= (async () => {
      globalThis.removeEventListener("unload", onUnload);
      const clean = await terminate(pid, 15_000);
      // Reap the child so Deno's resource tracking (and test sanitizers) see it closed;
      // an unref'd child's status would not keep the event loop alive, hence ref().
      child.ref();
      await child.status;
      await cds.finish(clean);
    })();

  try {
    await waitUntilReady(port, pid, opts.readyTimeoutMs ?? 60_000, [
      logFile,
      outFile,
    ]);
  } catch (err) {
    await stop().catch(() => {});
    throw err;
  }
  const seconds = ((performance.now() - began) / 1000).toFixed(1);
  log(
    `Kafka ${KAFKA_VERSION} ready on 127.0.0.1:${port} (pid ${pid}) in ${seconds}s`,
  );

  return {
    name: "kafka",
    pid,
    env: { KAFKA_BROKERS: `127.0.0.1:${port}` },
    stop,
  };
}
