/**
 * Island: a notification feed, updating live over that user's SSE stream. It shows this
 * browser's own user (an identity is made on the first visit; the token stays in an
 * HttpOnly cookie), or — in the demo — any simulated user picked on the map, whose phone
 * you can watch. "Share my location" registers you so you are told of sightings nearby.
 */

import { useEffect, useState } from "preact/hooks";
import type { Notification } from "../domain/alert.ts";
import { emit, initialFeedUser, listen, myUserId } from "../client/events.ts";
import { ago, label, metres } from "../client/format.ts";

export interface NotificationFeedProps {
  locationTtlS: number;
  /** Who the request's cookie says this browser is, if anyone yet. */
  me?: string;
}

export default function NotificationFeed(props: NotificationFeedProps) {
  const [me, setMe] = useState("");
  const [userId, setUserId] = useState("");
  const [draft, setDraft] = useState("");
  const [items, setItems] = useState<Notification[]>([]);
  const [live, setLive] = useState(false);
  const [picked, setPicked] = useState<{ lat: number; lng: number } | undefined>();
  const [message, setMessage] = useState("");
  const [, tick] = useState(0);

  useEffect(() => {
    myUserId(props.me).then(setMe).catch((err) => setMessage(String(err)));
    initialFeedUser(props.me).then((id) => {
      setUserId(id);
      setDraft(id);
    }).catch(() => {});
    const offUser = listen("alertcircle:user", ({ userId }) => {
      setUserId(userId);
      setDraft(userId);
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
    setMessage("");
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
    events.addEventListener("ended", (e) => {
      const { id } = JSON.parse((e as MessageEvent).data);
      setItems((old) => old.filter((n) => n.alert.id !== id));
    });
    fetch(`/api/users/${encodeURIComponent(userId)}/notifications`)
      .then(async (r) => {
        if (r.ok) return merge((await r.json()).notifications);
        events.close();
        setMessage(
          r.status === 403
            ? "That feed is private: you can watch your own, or a simulated user's."
            : `Feed unavailable (${r.status}).`,
        );
      })
      .catch(() => {});
    return () => events.close();
  }, [userId]);

  async function placeMe(at: { lat: number; lng: number }) {
    const id = me || await myUserId();
    const res = await fetch("/api/locations", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ userId: id, lat: at.lat, lng: at.lng }),
    });
    setMessage(
      res.ok
        ? `Location saved for ${Math.round(props.locationTtlS / 60)} min: you'll be told of sightings nearby.`
        : res.status === 429
        ? "Slow down: one location update per second."
        : `Could not save location (${res.status}).`,
    );
    if (res.ok && userId !== id) emit("alertcircle:user", { userId: id });
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
      <p class="note" data-testid="me" data-user-id={me}>
        {me ? (userId === me ? "Your feed." : `Watching ${userId}.`) : "Getting your identity…"}
        {me && userId !== me && (
          <button
            type="button"
            class="link"
            onClick={() => emit("alertcircle:user", { userId: me })}
          >
            Back to mine
          </button>
        )}
      </p>
      <form
        class="row"
        onSubmit={(e) => {
          e.preventDefault();
          if (draft.trim()) emit("alertcircle:user", { userId: draft.trim() });
        }}
      >
        <label>
          Watch{" "}
          <input name="userId" value={draft} onInput={(e) => setDraft(e.currentTarget.value)} autocomplete="off" />
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
        {items.length === 0 && (
          <li class="empty">No alerts near {userId === me ? "you" : userId || "you"} right now.</li>
        )}
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
