/** GET /: the dashboard, rendered on the server with its three islands. */

import { Hono } from "hono";
import { getCookie } from "hono/cookie";
import { renderToString } from "preact-render-to-string";
import type { AppContext } from "../app/context.ts";
import { Island } from "../components/Island.tsx";
import { Layout } from "../components/Layout.tsx";
import { NOTE_MAX } from "../domain/schemas.ts";
import { TOKEN_COOKIE } from "./auth.ts";
import LiveMap from "../islands/LiveMap.tsx";
import NotificationFeed from "../islands/NotificationFeed.tsx";
import ReportForm from "../islands/ReportForm.tsx";

export function pageRoutes(ctx: AppContext, clientEntry: () => string) {
  return new Hono().get("/", async (c) => {
    const now = Date.now();
    const [users, alerts] = await Promise.all([
      ctx.proximity.countActive(now),
      ctx.store.alerts.live(now, { limit: 5_000 }),
    ]);
    const cfg = ctx.config;
    const me = ctx.identity.verify(getCookie(c, TOKEN_COOKIE));
    const html = renderToString(
      <Layout
        title="AlertCircle — live community alerts"
        clientEntry={clientEntry()}
        stats={`${users} active users · ${alerts.length} live alerts · radius ${cfg.alertRadiusM} m`}
      >
        <Island
          name="LiveMap"
          component={LiveMap}
          props={{
            center: cfg.simCenter,
            zoom: 14,
            tileUrl: cfg.tileUrl,
            tileAttribution: cfg.tileAttribution,
            showUsers: cfg.simulate,
          }}
        />
        <div class="side">
          <Island name="NotificationFeed" component={NotificationFeed} props={{ locationTtlS: cfg.locationTtlS, me }} />
          <Island name="ReportForm" component={ReportForm} props={{ noteMax: NOTE_MAX, me }} />
        </div>
      </Layout>,
    );
    // The page names its viewer's user id: never cache it anywhere shared.
    c.header("Cache-Control", "private, no-store");
    return c.html(`<!doctype html>${html}`);
  });
}
