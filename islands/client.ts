/**
 * The hydration entry, bundled for the browser: finds every server-rendered island
 * marker and hydrates the matching component with the props the server used.
 */

import { h, hydrate } from "preact";
import type { ComponentType } from "preact";
import LiveMap from "./LiveMap.tsx";
import NotificationFeed from "./NotificationFeed.tsx";
import ReportForm from "./ReportForm.tsx";

// deno-lint-ignore no-explicit-any
const islands: Record<string, ComponentType<any>> = { LiveMap, NotificationFeed, ReportForm };

for (const el of document.querySelectorAll<HTMLElement>("[data-island]")) {
  const component = islands[el.dataset.island ?? ""];
  if (!component) {
    console.warn(`unknown island ${el.dataset.island}`);
    continue;
  }
  hydrate(h(component, JSON.parse(el.dataset.props ?? "{}")), el);
}
