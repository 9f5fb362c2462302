/**
 * What the HTTP routes and jobs are given: the chosen ports and the services over them.
 * Built once by app/wiring.ts; routes never reach for globals.
 */

import type { Archive } from "../adapters/archive/port.ts";
import type { Bus } from "../adapters/bus/port.ts";
import type { LocationStore, Store } from "../adapters/store/port.ts";
import type { Config } from "../config.ts";
import type { CommitWatch } from "../pipeline/commit_watch.ts";
import type { LiveHub } from "../pipeline/live_hub.ts";
import type { AlertActions } from "./alert_actions.ts";
import type { Identity } from "./identity.ts";
import type { LocationUpdates } from "./locations.ts";
import type { RateLimiter } from "./rate_limiter.ts";
import type { ReportIntake } from "./reports.ts";

export interface Readiness {
  ready: boolean;
  bus: { kind: string; ok: boolean; detail: string };
  store: { kind: string; ok: boolean; detail: string };
  archive: { kind: string; ok: boolean; detail: string };
  pipeline: { ok: boolean; detail: string };
}

export interface AppContext {
  config: Config;
  bus: Bus;
  store: Store;
  archive: Archive;
  /**
   * This instance's in-memory view of every user's latest location: what enrichment asks
   * "who is near", and what the dashboard shows. The store's own index, or a copy of it.
   */
  proximity: LocationStore;
  hub: LiveHub;
  /**
   * Tells a resuming SSE client's replay when the store holds every alert enriched
   * before the client came back (true), or that it did not within the time (false).
   */
  storeCatchUp: Pick<CommitWatch, "caughtUp">;
  intake: ReportIntake;
  locations: LocationUpdates;
  identity: Identity;
  limits: {
    reportsPerUser: RateLimiter;
    reportsPerAddress: RateLimiter;
    locationsPerUser: RateLimiter;
    identitiesPerAddress: RateLimiter;
  };
  alertActions: AlertActions;
  readiness(): Promise<Readiness>;
  stats(): Promise<Record<string, unknown>>;
}
