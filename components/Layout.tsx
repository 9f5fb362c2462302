/** The page shell: head, header, and the one module script that hydrates the islands. */

import type { ComponentChildren } from "preact";

export function Layout(props: { title: string; clientEntry: string; stats: string; children: ComponentChildren }) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="color-scheme" content="light" />
        <title>{props.title}</title>
        <link rel="stylesheet" href="/static/vendor/leaflet/leaflet.css" />
        <link rel="stylesheet" href="/static/app.css" />
        <link rel="icon" href="/static/favicon.svg" type="image/svg+xml" />
      </head>
      <body>
        <header class="top">
          <h1>AlertCircle</h1>
          <p class="tagline">Sightings reported near you, live: everyone within range is told at once.</p>
          <p class="stats" data-testid="stats">{props.stats}</p>
        </header>
        <main class="layout">{props.children}</main>
        <script type="module" src={props.clientEntry}></script>
      </body>
    </html>
  );
}
