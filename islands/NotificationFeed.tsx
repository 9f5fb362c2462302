/**
 * Island: one user's notification feed, updating live over that user's SSE stream. The
 * user is this browser's own id (kept in localStorage), or any user picked on the map or
 * typed in — the demo lets you watch a simulated user's phone.
 */

import { useEffect, useState } from "preact/hooks";
import type { Notification } from "../domain/alert.ts";
import { currentUserId, emit, listen, rememberUserId } from "../client/events.ts";
import { ago, label, metres } from "../client/format.ts";

export interface NotificationFeedProps {
  locationTtlS: number;
}

export default function NotificationFeed(props: NotificationFeedProps) {
  const [userId, setUserId] = useState("");
  const [draft, setDraft] = useState("");
  const [items, setItems] = useState<Notification[]>([]);
  const [live, setLive] = useState(false);
  const [picked, setPicked] = useState<{ lat: number; lng: number } | undefined>();
  const [message, setMessage] = useState("");
  const [, tick] = useState(0);

  useEffect(() => {
    const id = currentUserId();
    setUserId(id);
    setDraft(id);
    const offUser = listen("alertcircle:user", ({ userId }) => {
      setUserId(userId);
      setDraft(userId);
      rememberUserId(userId);
    });
    const offPick = listen("alertcircle:pick", setPicked);
    const clock = setInterval(() => tick((n) => n + 1), 15_000);
    return () => {
      offUser();
      offPick();
      clearInterval(clock);
    };
  }, []);

  useEffect(() => {
    if (!userId) return;
    setItems([]);
    const merge = (incoming: Notification[]) =>
      setItems((old) => {
        const byId = new Map(old.map((n) => [n.alert.id, n]));
        for (const n of incoming) byId.set(n.alert.id, n);
        return [...byId.values()]
          .filter((n) => Date.parse(n.alert.expiresAt) > Date.now())
          .sort((a, b) => b.alert.reportedAt.localeCompare(a.alert.reportedAt))
          .slice(0, 50);
      });
    const events = new EventSource(`/api/stream?userId=${encodeURIComponent(userId)}`);
    events.addEventListener("open", () => setLive(true));
    events.addEventListener("error", () => setLive(false));
    events.addEventListener("notification", (e) => merge([JSON.parse((e as MessageEvent).data)]));
    fetch(`/api/users/${encodeURIComponent(userId)}/notifications`)
      .then((r) => r.ok ? r.json() : { notifications: [] })
      .then((body: { notifications: Notification[] }) => merge(body.notifications))
      .catch(() => {});
    return () => events.close();
  }, [userId]);

  async function placeMe(at: { lat: number; lng: number }) {
    const res = await fetch("/api/locations", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ userId, lat: at.lat, lng: at.lng }),
    });
    setMessage(
      res.ok
        ? `Location saved for ${Math.round(props.locationTtlS / 60)} min: you'll be told of sightings nearby.`
        : `Could not save location (${res.status}).`,
    );
  }

  function shareLocation() {
    if (!("geolocation" in navigator)) return setMessage("This browser cannot share its location.");
    navigator.geolocation.getCurrentPosition(
      (p) => placeMe({ lat: p.coords.latitude, lng: p.coords.longitude }),
      (err) => setMessage(`Location not shared: ${err.message}`),
    );
  }

  return (
    <section class="panel feed" aria-label="Notification feed">
      <h2>
        Notifications <span class={live ? "dot live" : "dot"} title={live ? "live" : "offline"} />
      </h2>
      <form
        class="row"
        onSubmit={(e) => {
          e.preventDefault();
          if (draft.trim()) emit("alertcircle:user", { userId: draft.trim() });
        }}
      >
        <label>
          User <input name="userId" value={draft} onInput={(e) => setDraft(e.currentTarget.value)} autocomplete="off" />
        </label>
        <button type="submit">Watch</button>
      </form>
      <div class="row">
        <button type="button" onClick={shareLocation}>Share my location</button>
        <button type="button" disabled={!picked} onClick={() => picked && placeMe(picked)}>
          Put me at the picked spot
        </button>
      </div>
      {message && <p class="note" role="status">{message}</p>}
      <ul class="feed-list" data-testid="feed" data-user-id={userId}>
        {items.length === 0 && <li class="empty">No alerts near {userId || "you"} right now.</li>}
        {items.map((n) => (
          <li key={n.alert.id} data-alert-id={n.alert.id} class={`type-${n.alert.type}`}>
            <strong>{label(n.alert.type)}</strong> <span>{metres(n.distanceM)} away</span>{" "}
            <time dateTime={n.alert.reportedAt}>{ago(n.alert.reportedAt)}</time>
            {n.alert.note && <p>{n.alert.note}</p>}
          </li>
        ))}
      </ul>
    </section>
  );
}
