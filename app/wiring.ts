/**
 * Builds one running AlertCircle from a configuration: ports → services → pipeline
 * stages → jobs → HTTP app, and knows the order to start and stop them in. main.ts
 * adds only the process concerns (listening socket, Deno.cron, signals); tests build
 * the same thing in-process.
 */

import { openArchive, openBus, openStore } from "../adapters/select.ts";
import type { Archive } from "../adapters/archive/port.ts";
import type { Bus } from "../adapters/bus/port.ts";
import { TOPICS } from "../adapters/bus/port.ts";
import type { Store } from "../adapters/store/port.ts";
import type { Config } from "../config.ts";
import { LocationJob } from "../jobs/location_job.ts";
import { ReportSimulator } from "../jobs/report_simulator.ts";
import { Sweeper } from "../jobs/sweeper.ts";
import { log } from "../log.ts";
import { MemoryLocationStore, MemoryStore } from "../adapters/store/memory.ts";
import { LocationIndex } from "../domain/location_index.ts";
import { AlertTracker } from "../pipeline/alert_tracker.ts";
import { ARCHIVE_GROUP, ArchiveStage } from "../pipeline/archive.ts";
import { createLocationFeedStage } from "../pipeline/location_feed.ts";
import { createLocationSinkStage } from "../pipeline/location_sink.ts";
import { createEnrichStage, ENRICH_GROUP } from "../pipeline/enrich.ts";
import { createLiveStage, deliverLocally } from "../pipeline/live.ts";
import { LiveHub } from "../pipeline/live_hub.ts";
import { createSinkStage, SINK_GROUP } from "../pipeline/sink.ts";
import { CommitWatch } from "../pipeline/commit_watch.ts";
import type { HttpOptions } from "../routes/app.ts";
import { createHttpApp } from "../routes/app.ts";
import type { AppContext, Readiness } from "./context.ts";
import { AlertActions } from "./alert_actions.ts";
import { EventLoopLag } from "./event_loop_lag.ts";
import { Identity, loadAuthSecret } from "./identity.ts";
import { LocationUpdates } from "./locations.ts";
import { RateLimiter } from "./rate_limiter.ts";
import { topicSpecs } from "./topics.ts";
import { ReportIntake } from "./reports.ts";

export interface AppOverrides {
  bus?: Bus;
  store?: Store;
  archive?: Archive;
  http?: HttpOptions;
}

/** How long shutdown waits for the pipeline to empty before it stops anyway. */
const DRAIN_TIMEOUT_MS = 10_000;

export async function buildApp(config: Config, overrides: AppOverrides = {}) {
  const bus = overrides.bus ?? await openBus(config);
  const store = overrides.store ?? await openStore(config);
  const archive = overrides.archive ?? await openArchive(config);
  // Groups that belong to this process alone (live push, index feed) are named per boot:
  // a restarted instance starts them afresh instead of resuming a dead one's position.
  const bootId = `${config.instanceId}-${crypto.randomUUID().slice(0, 8)}`;
  const hub = new LiveHub();
  const tracker = new AlertTracker();
  const intake = new ReportIntake(bus);
  const identity = new Identity(await loadAuthSecret(config.authSecret, config.dataDir));
  const limits = {
    reportsPerUser: new RateLimiter(config.limits.reportsPerUser),
    reportsPerAddress: new RateLimiter(config.limits.reportsPerAddress),
    locationsPerUser: new RateLimiter(config.limits.locationsPerUser),
    identitiesPerAddress: new RateLimiter(config.limits.identitiesPerAddress),
  };
  // Enrichment asks an in-memory index: the embedded store's own, or a copy of the
  // store's locations that this instance keeps (see app/locations.ts).
  const embeddedStore = store instanceof MemoryStore;
  const ownIndex = embeddedStore ? undefined : new LocationIndex();
  const index = embeddedStore ? store.locations.index : ownIndex!;
  const proximity = new MemoryLocationStore(config.locationTtlS * 1000, index);
  const kafka = bus.kind === "kafka";
  const locations = new LocationUpdates({
    store: embeddedStore ? undefined : store.locations,
    index,
    // Published when other instances' indexes or the store sink need the updates.
    bus: kafka || !embeddedStore ? bus : undefined,
  });
  const locationFeed = kafka ? createLocationFeedStage({ bus, index, instanceId: bootId }) : undefined;
  const locationSink = embeddedStore ? undefined : createLocationSinkStage({ bus, locations: store.locations });

  const enrichStage = createEnrichStage({
    bus,
    proximity,
    tracker,
    settings: {
      radiusM: config.alertRadiusM,
      alertTtlMs: config.alertTtlS * 1000,
      dedupeRadiusM: config.dedupe.radiusM,
      dedupeWindowMs: config.dedupe.windowS * 1000,
    },
    deliver: (event) => deliverLocally({ hub, tracker }, event, Date.now()),
  });
  const sinkStage = createSinkStage({ bus, alerts: store.alerts });
  const storeCatchUp = new CommitWatch({
    progress: () => bus.progress(SINK_GROUP, TOPICS.enrichedAlerts),
    settleFirst: () => enrichStage.settled(),
  });
  const liveStage = createLiveStage({ bus, hub, tracker, instanceId: bootId });
  const alertActions = new AlertActions({
    bus,
    alerts: store.alerts,
    proximity,
    tracker,
    votesToEnd: config.goneVotesToEnd,
  });
  const archiveStage = new ArchiveStage({
    bus,
    archive,
    settings: { flushMs: config.archiveFlushS * 1000, maxRecords: config.archiveMaxRecords },
  });
  const locationJob = new LocationJob({
    locations,
    leases: store.leases,
    area: { center: config.simCenter, spreadM: config.simSpreadM },
    users: config.simulate ? config.simUsers : 0,
    instanceId: config.instanceId,
  });
  const simulator = config.simulate
    ? new ReportSimulator({
      intake,
      locations: proximity,
      users: config.simUsers,
      intervalMs: config.simReportIntervalS * 1000,
    })
    : undefined;
  const sweeper = new Sweeper({
    store,
    proximity: ownIndex ? proximity : undefined,
    tracker,
    deleteEnrichedReports: () => bus.deleteConsumed(ENRICH_GROUP, TOPICS.rawAlerts),
  });
  let started = false;
  const lag = new EventLoopLag();
  let heartbeat: ReturnType<typeof setInterval> | undefined;

  async function readiness(): Promise<Readiness> {
    const [s, a] = await Promise.all([store.health(), archive.health()]);
    const b = bus.health();
    const pipeline = { ok: started, detail: started ? "running" : "not started" };
    return {
      ready: b.ok && s.ok && a.ok && pipeline.ok,
      bus: { kind: bus.kind, ...b },
      store: { kind: store.kind, ...s },
      archive: { kind: archive.kind, ...a },
      pipeline,
    };
  }

  async function stats(): Promise<Record<string, unknown>> {
    const now = Date.now();
    // Lag is asked of the broker; when it cannot answer, the figure is null and the rest
    // of the stats still come (an operator asks most when something is down).
    const lagOf = (group: string, topic: string) => bus.pending(group, topic).catch(() => null);
    const [activeUsers, rawLag, sinkLag, archiveLag] = await Promise.all([
      proximity.countActive(now),
      lagOf(ENRICH_GROUP, TOPICS.rawAlerts),
      lagOf(SINK_GROUP, TOPICS.enrichedAlerts),
      lagOf(ARCHIVE_GROUP, TOPICS.publicAlerts),
    ]);
    // From this instance's tracker (every instance tracks every alert), not the store:
    // counting live alerts in MongoDB would read every live alert's document.
    const liveAlerts = tracker.liveCount(now);
    return {
      instanceId: config.instanceId,
      engines: { bus: bus.kind, store: store.kind, archive: archive.kind },
      activeUsers,
      liveAlerts,
      reportsAccepted: intake.accepted,
      locationUpdates: locations.updates,
      lag: { enrich: rawLag, sink: sinkLag, archive: archiveLag },
      stages: [enrichStage.stats, sinkStage.stats, liveStage.stats, archiveStage.stats, locationFeed?.stats].filter(
        Boolean,
      ),
      proximityIndexUsers: index.size,
      live: hub.stats,
      trackedAlerts: tracker.size,
      locationJob: locationJob.lastRun,
      memory: { rssBytes: Deno.memoryUsage().rss, heapUsedBytes: Deno.memoryUsage().heapUsed },
      eventLoopLagMs: lag.window.summary(),
    };
  }

  const ctx: AppContext = {
    config,
    bus,
    store,
    archive,
    proximity,
    hub,
    storeCatchUp,
    intake,
    locations,
    identity,
    limits,
    alertActions,
    readiness,
    stats,
  };
  const http = createHttpApp(ctx, overrides.http);

  async function start(): Promise<void> {
    await bus.ensureTopics(topicSpecs(config));
    await warmUpIndex();
    // Live alerts already in the store, so repeats of them are recognised after a restart.
    for (const a of await store.alerts.live(Date.now(), { limit: 100_000 })) tracker.remember(a);
    await locationSink?.start();
    // Downstream first, so nothing enrich produces is waiting for a reader.
    await archiveStage.start();
    await sinkStage.start();
    await liveStage.start();
    await enrichStage.start();
    sweeper.start();
    lag.start();
    heartbeat = setInterval(() => hub.heartbeat(), overrides.http?.heartbeatMs ?? 15_000);
    if (config.simulate) {
      // Populate the map at once rather than at the first cron tick, without holding up
      // start-up (against a slow store a run can take a while).
      locationJob.run().catch((err) => log.error("job.location_failed", { error: String(err) }));
      simulator?.start();
    }
    started = true;
    log.info("app.started", { bus: bus.kind, store: store.kind, archive: archive.kind });
  }

  /**
   * Fills this instance's proximity index before enrichment starts: with Kafka by
   * replaying `user_locations` (it holds just the TTL's worth), otherwise from the store.
   */
  async function warmUpIndex(): Promise<void> {
    if (locationFeed) {
      await locationFeed.start();
      const group = `alertcircle-locations-${bootId}`;
      const deadline = Date.now() + 60_000;
      // A transient broker error only means "ask again".
      while (Date.now() < deadline && await bus.pending(group, TOPICS.userLocations).catch(() => Infinity) > 100) {
        await new Promise((r) => setTimeout(r, 100));
      }
    } else if (ownIndex) {
      for (const u of await store.locations.active(Date.now(), { limit: Number.MAX_SAFE_INTEGER })) {
        ownIndex.upsert(u.userId, u.lat, u.lng, u.seenAt);
      }
    }
    log.info("app.index_ready", { users: index.size });
  }

  /**
   * Waits until every shared stage has committed everything on its topic (the archive
   * is made to flush as it goes), or the timeout; returns what is still pending.
   */
  async function drain(timeoutMs: number): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const [enrich, sink] = await Promise.all([
        bus.pending(ENRICH_GROUP, TOPICS.rawAlerts),
        bus.pending(SINK_GROUP, TOPICS.enrichedAlerts),
      ]);
      let archived = 1;
      if (enrich === 0) {
        await archiveStage.flushNow().catch((err) => log.warn("app.drain_flush_failed", { error: String(err) }));
        archived = await bus.pending(ARCHIVE_GROUP, TOPICS.publicAlerts);
      }
      const pending = enrich + sink + archived;
      if (pending === 0 || Date.now() > deadline) return pending;
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /**
   * Graceful stop: no new simulated work, live clients told goodbye, pipeline drained,
   * the archive flushed and committed, then the ports closed. The caller stops the
   * HTTP listener first so no new reports arrive.
   */
  async function shutdown(): Promise<void> {
    simulator?.stop();
    sweeper.stop();
    clearInterval(heartbeat);
    lag.stop();
    await locationJob.stop();
    hub.closeAll("server shutting down");
    storeCatchUp.close();
    const left = await drain(DRAIN_TIMEOUT_MS);
    if (left > 0) log.warn("app.drain_incomplete", { pending: left });
    // Enrichment first, so nothing new reaches the stages downstream while they stop.
    await enrichStage.stop();
    await Promise.all([
      liveStage.stop(),
      sinkStage.stop(),
      locationFeed?.stop(),
      locationSink?.stop(),
      archiveStage.stop(),
    ]);
    await Promise.all([
      enrichStage.close(),
      liveStage.close(),
      sinkStage.close(),
      locationFeed?.close(),
      locationSink?.close(),
      archiveStage.close(),
    ]);
    await bus.close();
    await store.close();
    await archive.close();
    started = false;
    log.info("app.stopped", {});
  }

  return { ctx, http, locationJob, simulator, sweeper, archiveStage, start, shutdown, drain };
}

export type App = Awaited<ReturnType<typeof buildApp>>;
