/**
 * How islands talk to each other in the browser: small typed DOM events on `window`.
 * Each island stays independent (hydrated on its own) yet the map can tell the report
 * form where the user clicked, and the feed which user was picked.
 */

export interface DashboardEvents {
  /** A point picked on the map (for a report, or to place "me"). */
  "alertcircle:pick": { lat: number; lng: number };
  /** The user whose feed is shown, and who reports from this browser. */
  "alertcircle:user": { userId: string };
}

export function emit<K extends keyof DashboardEvents>(name: K, detail: DashboardEvents[K]): void {
  globalThis.dispatchEvent(new CustomEvent(name, { detail }));
}

export function listen<K extends keyof DashboardEvents>(
  name: K,
  handler: (detail: DashboardEvents[K]) => void,
): () => void {
  const listener = (e: Event) => handler((e as CustomEvent<DashboardEvents[K]>).detail);
  globalThis.addEventListener(name, listener);
  return () => globalThis.removeEventListener(name, listener);
}

let identity: Promise<string> | undefined;

/**
 * This browser's own user id. The token lives in an HttpOnly cookie the server set when
 * it issued the identity, so scripts never touch it. The page tells the islands who the
 * cookie says we are (`known`); on a first visit a new identity is made.
 */
export function myUserId(known?: string): Promise<string> {
  identity ??= (async () => {
    if (known) return known;
    const made = await fetch("/api/users", { method: "POST" });
    if (!made.ok) throw new Error(`could not get an identity (${made.status})`);
    return (await made.json()).userId as string;
  })();
  return identity;
}

/** The user whose feed to show first: ?user= in the URL (e.g. a simulated user in the demo), else oneself. */
export async function initialFeedUser(known?: string): Promise<string> {
  return new URLSearchParams(location.search).get("user") ?? await myUserId(known);
}
