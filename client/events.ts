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

const USER_KEY = "alertcircle.userId";

/** The user this browser acts as: ?user= in the URL, else the last one chosen, else a new random id. */
export function currentUserId(): string {
  const fromUrl = new URLSearchParams(location.search).get("user");
  if (fromUrl) return fromUrl;
  try {
    const saved = localStorage.getItem(USER_KEY);
    if (saved) return saved;
  } catch { /* storage may be disabled */ }
  const fresh = `web-${crypto.randomUUID().slice(0, 8)}`;
  rememberUserId(fresh);
  return fresh;
}

export function rememberUserId(userId: string): void {
  try {
    localStorage.setItem(USER_KEY, userId);
  } catch { /* storage may be disabled */ }
}
