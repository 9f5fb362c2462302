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
  private readonly recent: EnrichedAlert[] = [];
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
      if (set.size === 0 && this.userClients.get(userId) === set) this.userClients.delete(userId);
    };
  }

  /** Pushes one enriched alert to every client entitled to it. Redeliveries are ignored. */
  publish(alert: EnrichedAlert): void {
    if (this.seen.has(alert.id)) return;
    this.recent.push(alert);
    if (this.recent.length > RECENT) this.recent.shift();
    this.remember(alert.id);
    const pub = toPublicAlert(alert);
    if (this.mapClients.size > 0) {
      const frame = alertFrame(pub);
      for (const client of this.mapClients) this.deliver(client, frame, this.mapClients);
    }
    if (this.userClients.size > 0) this.notifyUsers(alert, pub);
    this.latency.record(Date.now() - Date.parse(alert.reportedAt));
  }

  private notifyUsers(alert: EnrichedAlert, pub: PublicAlert): void {
    const json = JSON.stringify(pub);
    const ids = alert.notifiedUserIds;
    for (let i = 0; i < ids.length; i++) {
      const clients = this.userClients.get(ids[i]);
      if (!clients) continue;
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
    const original = this.recent.find((a) => a.id === update.alertId);
    for (const userId of original?.notifiedUserIds ?? []) {
      const clients = this.userClients.get(userId);
      if (!clients) continue;
      for (const client of clients) this.deliver(client, frame, clients);
    }
  }

  /**
   * Frames a client missed after `lastEventId`, oldest first, or undefined when that id
   * is no longer (or never was) in this instance's ring — the caller then falls back to
   * the store.
   */
  replay(lastEventId: string, userId?: string): Uint8Array[] | undefined {
    const at = this.recent.findIndex((a) => a.id === lastEventId);
    if (at < 0) return undefined;
    const frames: Uint8Array[] = [];
    for (const alert of this.recent.slice(at + 1)) {
      const pub = toPublicAlert(alert);
      if (userId === undefined) {
        frames.push(alertFrame(pub));
        continue;
      }
      const i = alert.notifiedUserIds.indexOf(userId);
      if (i >= 0) frames.push(notificationFrame(JSON.stringify(pub), alert.id, alert.distancesM[i]));
    }
    return frames;
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
