/**
 * Island: the live map. The server renders its frame and status line; in the browser it
 * loads Leaflet (only there: Leaflet needs `window`) and hands the map to client/live_map.ts.
 */

import { useEffect, useRef, useState } from "preact/hooks";
import type { MapSettings } from "../client/live_map.ts";

export type LiveMapProps = MapSettings;

const STATUS_TEXT = { connecting: "Connecting…", live: "Live", reconnecting: "Reconnecting…" } as const;

export default function LiveMap(props: LiveMapProps) {
  const el = useRef<HTMLDivElement>(null);
  const [status, setStatus] = useState<keyof typeof STATUS_TEXT>("connecting");
  const [count, setCount] = useState(0);

  useEffect(() => {
    let dispose: (() => void) | undefined;
    let gone = false;
    (async () => {
      const [leaflet, { mountLiveMap }] = await Promise.all([import("leaflet"), import("../client/live_map.ts")]);
      // Leaflet is CommonJS: bundled into its own chunk it arrives as the default export.
      const L = leaflet.default;
      if (gone || !el.current) return;
      dispose = mountLiveMap(L, el.current, props, { onStatus: setStatus, onCount: setCount });
    })();
    return () => {
      gone = true;
      dispose?.();
    };
  }, []);

  return (
    <section class="panel map-panel" aria-label="Live map">
      <header class="map-bar">
        <span class={`status status-${status}`} data-status={status}>{STATUS_TEXT[status]}</span>
        <span class="count" data-testid="alert-count">{count} active alert{count === 1 ? "" : "s"}</span>
        <span class="hint">Click the map to pick a spot</span>
      </header>
      <div ref={el} class="map" data-testid="map">
        <noscript>The live map needs JavaScript.</noscript>
      </div>
    </section>
  );
}
