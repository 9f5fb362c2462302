/**
 * /static/*: the island bundle, our CSS and Leaflet's CSS and images, all served from
 * the binary's own files (no CDN). The folder is found next to this module, so it works
 * from a checkout and from a `deno compile` binary that embeds it.
 */

import { Hono } from "hono";
import { serveStatic } from "hono/deno";
import { fileURLToPath } from "node:url";

export const STATIC_ROOT = fileURLToPath(new URL("../static", import.meta.url));

export function staticRoutes() {
  return new Hono().use(
    "/*",
    serveStatic({
      root: STATIC_ROOT,
      rewriteRequestPath: (path) => path.replace(/^\/static/, ""),
      onFound: (path, c) => {
        // Bundles carry a content hash in their names; everything else revalidates.
        c.header(
          "Cache-Control",
          /\/build\/.*-[A-Z0-9]{8}\.js$/.test(path) ? "public, max-age=31536000, immutable" : "no-cache",
        );
      },
    }),
  );
}
