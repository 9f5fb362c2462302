/**
 * The Leaflet side of the LiveMap island, browser only: draws live alerts (marker,
 * radius circle, type badge and colour, fading as they near expiry) and, in the demo,
 * active users as small dots. Alerts arrive by SSE; the REST list fills in what was
 * live before the page opened. Everything user-written is set as text, never as HTML.
 * The map keeps working without tiles: the vectors need no network.
 */

import type * as Leaflet from "leaflet";
import type { AlertType, PublicAlert } from "../domain/alert.ts";
import { emit, listen } from "./events.ts";
import { ago, label, metres, TYPE_GLYPH } from "./format.ts";

export interface MapSettings {
  center: { lat: number; lng: number };
  zoom: number;
  tileUrl: string;
  tileAttribution: string;
  showUsers: boolean;
}

export interface MapCallbacks {
  onStatus(status: "connecting" | "live" | "reconnecting"): void;
  onCount(count: number): void;
}

interface Drawn {
  alert: PublicAlert;
  marker: Leaflet.Marker;
  circle: Leaflet.Circle;
}

const COLOURS: Record<AlertType, string> = {
  bylaw_officer: "#d9480f",
  parking_inspector: "#1971c2",
  tow_truck: "#7048e8",
  police: "#c2255c",
  other: "#5c940d",
};

export function mountLiveMap(L: typeof Leaflet.default, el: HTMLElement, s: MapSettings, cb: MapCallbacks): () => void {
  const map = L.map(el, { preferCanvas: false, zoomControl: true }).setView([s.center.lat, s.center.lng], s.zoom);
  const tiles = L.tileLayer(s.tileUrl, { attribution: s.tileAttribution, maxZoom: 19 }).addTo(map);
  tiles.on("tileerror", () => el.classList.add("tiles-offline"));
  tiles.on("tileload", () => el.classList.remove("tiles-offline"));

  const drawn = new Map<string, Drawn>();
  const alertLayer = L.layerGroup().addTo(map);
  const userLayer = L.layerGroup().addTo(map);
  const dots = L.canvas({ padding: 0.2 });
  let picked: Leaflet.CircleMarker | undefined;

  function popup(a: PublicAlert): HTMLElement {
    const box = document.createElement("div");
    box.className = "alert-popup";
    const title = document.createElement("strong");
    title.textContent = label(a.type);
    const meta = document.createElement("div");
    const confirmed = a.confirmations > 0 ? ` · confirmed by ${a.confirmations} more` : "";
    meta.textContent = `${ago(a.reportedAt)} · ${a.notifiedCount} notified within ${metres(a.radiusM)}${confirmed}`;
    box.append(title, meta);
    if (a.note) {
      const note = document.createElement("p");
      note.textContent = a.note; // text, never HTML
      box.append(note);
    }
    const gone = document.createElement("button");
    gone.type = "button";
    gone.className = "gone";
    gone.textContent = "It's gone";
    const answer = document.createElement("small");
    gone.addEventListener("click", async () => {
      gone.disabled = true;
      const res = await fetch(`/api/alerts/${encodeURIComponent(a.id)}/gone`, { method: "POST" });
      const body = await res.json().catch(() => ({}));
      answer.textContent = res.ok
        ? body.ended ? " Thanks: it has ended." : ` Thanks: ${body.votes} of ${body.needed} say it's gone.`
        : ` ${body.message ?? `Not counted (${res.status})`}`;
    });
    box.append(gone, answer);
    return box;
  }

  function remove(id: string): void {
    const d = drawn.get(id);
    if (!d) return;
    alertLayer.removeLayer(d.marker);
    alertLayer.removeLayer(d.circle);
    drawn.delete(id);
    cb.onCount(drawn.size);
  }

  function add(a: PublicAlert): void {
    const known = drawn.get(a.id);
    if (known) {
      // A change (a confirmation extends it): keep the marker, take the new state.
      known.alert = a;
      fade();
      return;
    }
    if (Date.parse(a.expiresAt) <= Date.now() || a.endedAt) return;
    const colour = COLOURS[a.type] ?? "#495057";
    const icon = L.divIcon({
      className: `alert-icon type-${a.type}`,
      // Colour comes from the CSS class: the CSP allows no inline styles.
      html: `<span>${TYPE_GLYPH[a.type] ?? "?"}</span>`,
      iconSize: [28, 28],
      iconAnchor: [14, 14],
    });
    const marker = L.marker([a.lat, a.lng], { icon, title: label(a.type), keyboard: true }).bindPopup(() =>
      popup(drawn.get(a.id)?.alert ?? a)
    );
    const circle = L.circle([a.lat, a.lng], {
      radius: a.radiusM,
      color: colour,
      weight: 1,
      fillOpacity: 0.08,
      interactive: false,
    });
    circle.addTo(alertLayer);
    marker.addTo(alertLayer);
    marker.getElement()?.setAttribute("data-alert-id", a.id);
    drawn.set(a.id, { alert: a, marker, circle });
    fade();
  }

  /** Fades each alert with the time it has left and drops the expired ones. */
  function fade(): void {
    const now = Date.now();
    for (const [id, d] of drawn) {
      const total = Date.parse(d.alert.expiresAt) - Date.parse(d.alert.reportedAt);
      const left = Date.parse(d.alert.expiresAt) - now;
      if (left <= 0 || d.alert.endedAt) {
        remove(id);
        continue;
      }
      const o = 0.3 + 0.7 * Math.min(1, left / total);
      d.marker.setOpacity(o);
      d.circle.setStyle({ opacity: o * 0.8, fillOpacity: 0.1 * o });
    }
    cb.onCount(drawn.size);
  }

  async function loadAlerts(): Promise<void> {
    const res = await fetch("/api/alerts?limit=2000");
    if (!res.ok) return;
    const body = await res.json() as { alerts: PublicAlert[] };
    for (const a of body.alerts.reverse()) add(a);
  }

  async function loadUsers(): Promise<void> {
    if (!s.showUsers) return;
    const b = map.getBounds();
    const bbox = [b.getSouth(), Math.max(-180, b.getWest()), b.getNorth(), Math.min(180, b.getEast())].join(",");
    const res = await fetch(`/api/locations?limit=5000&bbox=${bbox}`);
    if (!res.ok) return;
    const body = await res.json() as { users: Array<{ userId: string; lat: number; lng: number }> };
    userLayer.clearLayers();
    for (const u of body.users) {
      L.circleMarker([u.lat, u.lng], { renderer: dots, radius: 3, weight: 0, fillColor: "#343a40", fillOpacity: 0.55 })
        .on("click", () => emit("alertcircle:user", { userId: u.userId }))
        .bindTooltip(u.userId)
        .addTo(userLayer);
    }
  }

  map.on("click", (e: Leaflet.LeafletMouseEvent) => {
    picked?.remove();
    picked = L.circleMarker(e.latlng, { radius: 7, color: "#212529", weight: 2, fillOpacity: 0 }).addTo(map);
    emit("alertcircle:pick", { lat: e.latlng.lat, lng: e.latlng.lng });
  });
  map.on("moveend", () => loadUsers().catch(() => {}));
  const stopListening = listen("alertcircle:pick", (p) => {
    if (!picked) {
      picked = L.circleMarker([p.lat, p.lng], { radius: 7, color: "#212529", weight: 2, fillOpacity: 0 }).addTo(map);
    } else picked.setLatLng([p.lat, p.lng]);
  });

  cb.onStatus("connecting");
  const events = new EventSource("/api/stream");
  let dropped = false;
  events.addEventListener("open", () => {
    cb.onStatus("live");
    // Back after a drop: the stream resumes from Last-Event-ID, and the live alerts are
    // fetched again too, in case the replay's bound left some out (add() drops repeats).
    if (dropped) loadAlerts().catch(() => {});
    dropped = false;
  });
  events.addEventListener("error", () => {
    dropped = true;
    cb.onStatus("reconnecting");
  });
  events.addEventListener("alert", (e) => add(JSON.parse((e as MessageEvent).data)));
  events.addEventListener("ended", (e) => remove(JSON.parse((e as MessageEvent).data).id));
  loadAlerts().catch(() => {});
  loadUsers().catch(() => {});
  const fader = setInterval(fade, 5_000);
  const userPoll = setInterval(() => loadUsers().catch(() => {}), 15_000);

  return () => {
    events.close();
    clearInterval(fader);
    clearInterval(userPoll);
    stopListening();
    map.remove();
  };
}
