/**
 * The live fan-out hub of one instance: holds this instance's SSE clients (the map's
 * all-alerts streams and each user's own stream), turns every enriched alert into SSE
 * frames once, and hands each client only what it may see. A short ring of recent
 * alerts lets a reconnecting client resume from its Last-Event-ID.
 *
 * Privacy: the all-alerts frame carries the public alert (counts, no user ids); a
 * user's frame carries the public alert and that user's own distance, nothing else.
 */

import type { AlertUpdate, EnrichedAlert, PublicAlert } from "../domain/alert.ts";
import { toPublicAlert } from "../domain/alert.ts";
import { LatencyWindow } from "./latency_window.ts";

/** A connected client. `send` returns false when its buffer is full: the hub then drops it. */
export interface LiveClient {
  send(frame: Uint8Array): boolean;
  /** Called when the hub drops the client (it could not keep up). */
  close(reason: string): void;
}

const encoder = new TextEncoder();
/** Alerts remembered for Last-Event-ID resumes. */
const RECENT = 2_048;
/** Ids remembered to drop a redelivered alert instead of notifying twice. */
const SEEN = 50_000;

const PING = encoder.encode(": ping\n\n");

export function alertFrame(alert: PublicAlert): Uint8Array {
  return encoder.encode(`id: ${alert.id}\nevent: alert\ndata: ${JSON.stringify(alert)}\n\n`);
}

export function endedFrame(id: string, endedAt: string): Uint8Array {
  return encoder.encode(`id: ${id}:ended\nevent: ended\ndata: ${JSON.stringify({ id, endedAt })}\n\n`);
}

export function notificationFrame(alertJson: string, id: string, distanceM: number): Uint8Array {
  return encoder.encode(`id: ${id}\nevent: notification\ndata: {"alert":${alertJson},"distanceM":${distanceM}}\n\n`);
}

export class LiveHub {
  private readonly mapClients = new Set<LiveClient>();
  private readonly userClients = new Map<string, Set<LiveClient>>();
  /** The map frames of recent alerts, for map clients resuming with Last-Event-ID. */
  private readonly recent: Array<{ id: string; frame: Uint8Array }> = [];
  /**
   * For each user with a stream open here, the alerts they were told of lately, so an
   * alert that ends can be taken off their feed. Only ids: keeping whole enriched alerts
   * (with their lists of notified users) here cost garbage-collection time.
   */
  private readonly toldRecently = new Map<string, string[]>();
  private readonly seen = new Set<string>();
  /** Ring of the ids in `seen`, oldest at `seenNext` once full. */
  private readonly seenRing: (string | undefined)[] = new Array(SEEN);
  private seenNext = 0;
  private delivered = 0;
  private dropped = 0;
  /** Milliseconds from the API accepting a report to its push here. */
  readonly latency = new LatencyWindow();

  get stats() {
    let users = 0;
    for (const set of this.userClients.values()) users += set.size;
    return {
      mapClients: this.mapClients.size,
      userClients: users,
      delivered: this.delivered,
      dropped: this.dropped,
      acceptedToPushMs: this.latency.summary(),
    };
  }

  /** Adds a map client; returns its unsubscribe function. */
  subscribeAll(client: LiveClient): () => void {
    this.mapClients.add(client);
    return () => this.mapClients.delete(client);
  }

  subscribeUser(userId: string, client: LiveClient): () => void {
    let set = this.userClients.get(userId);
    if (!set) this.userClients.set(userId, set = new Set());
    set.add(client);
    return () => {
      set.delete(client);
      if (set.size === 0 && this.userClients.get(userId) === set) {
        this.userClients.delete(userId);
        this.toldRecently.delete(userId);
      }
    };
  }

  /** Pushes one enriched alert to every client entitled to it. Redeliveries are ignored. */
  publish(alert: EnrichedAlert): void {
    if (this.seen.has(alert.id)) return;
    this.remember(alert.id);
    const pub = toPublicAlert(alert);
    const frame = alertFrame(pub);
    this.recent.push({ id: alert.id, frame });
    if (this.recent.length > RECENT) this.recent.shift();
    for (const client of this.mapClients) this.deliver(client, frame, this.mapClients);
    if (this.userClients.size > 0) this.notifyUsers(alert, pub);
    this.latency.record(Date.now() - Date.parse(alert.reportedAt));
  }

  private notifyUsers(alert: EnrichedAlert, pub: PublicAlert): void {
    const json = JSON.stringify(pub);
    const ids = alert.notifiedUserIds;
    for (let i = 0; i < ids.length; i++) {
      const clients = this.userClients.get(ids[i]);
      if (!clients) continue;
      let told = this.toldRecently.get(ids[i]);
      if (!told) this.toldRecently.set(ids[i], told = []);
      told.push(alert.id);
      if (told.length > 50) told.shift();
      const frame = notificationFrame(json, alert.id, alert.distancesM[i]);
      for (const client of clients) this.deliver(client, frame, clients);
      if (clients.size === 0) this.userClients.delete(ids[i]);
    }
  }

  /**
   * Pushes a change to an alert: its new state to the map (or "ended"), and "ended" to
   * the users who were told of it. A confirmation tells nobody anything new.
   */
  publishChange(state: PublicAlert, update: AlertUpdate): void {
    if (this.seen.has(update.id)) return;
    this.remember(update.id);
    const frame = update.ended ? endedFrame(state.id, state.endedAt ?? update.at) : alertFrame(state);
    for (const client of this.mapClients) this.deliver(client, frame, this.mapClients);
    if (!update.ended) return;
    for (const [userId, told] of this.toldRecently) {
      if (!told.includes(update.alertId)) continue;
      const clients = this.userClients.get(userId);
      for (const client of clients ?? []) this.deliver(client, frame, clients!);
    }
  }

  /**
   * Map frames a client missed after `lastEventId`, oldest first, or undefined when that
   * id is no longer (or never was) in this instance's ring. A user's own stream always
   * resumes from the store (their feed is kept there); so does a map client whose id is
   * unknown here.
   */
  replay(lastEventId: string, userId?: string): Uint8Array[] | undefined {
    if (userId !== undefined) return undefined;
    const at = this.recent.findIndex((a) => a.id === lastEventId);
    if (at < 0) return undefined;
    return this.recent.slice(at + 1).map((a) => a.frame);
  }

  /**
   * A comment frame to every client: keeps idle connections (and the proxies on the way)
   * from timing out, and finds clients that stopped reading long ago. One timer for all.
   */
  heartbeat(): void {
    for (const client of this.mapClients) this.deliver(client, PING, this.mapClients);
    for (const [userId, clients] of this.userClients) {
      for (const client of clients) this.deliver(client, PING, clients);
      if (clients.size === 0) this.userClients.delete(userId);
    }
  }

  /** Disconnects everyone (shutdown). */
  closeAll(reason: string): void {
    for (const c of this.mapClients) c.close(reason);
    for (const set of this.userClients.values()) for (const c of set) c.close(reason);
    this.mapClients.clear();
    this.userClients.clear();
  }

  private deliver(client: LiveClient, frame: Uint8Array, from: Set<LiveClient>): void {
    if (client.send(frame)) {
      this.delivered++;
      return;
    }
    // Deleting from the set being iterated is safe for a JS Set.
    from.delete(client);
    this.dropped++;
    client.close("client too slow: buffer full");
  }

  private remember(id: string): void {
    const evicted = this.seenRing[this.seenNext];
    if (evicted !== undefined) this.seen.delete(evicted);
    this.seenRing[this.seenNext] = id;
    this.seenNext = (this.seenNext + 1) % SEEN;
    this.seen.add(id);
  }
}
