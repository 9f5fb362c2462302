/**
 * Where the built island bundle is: read from static/build/manifest.json (written by
 * `deno task build`) on first use, so API-only uses of the server never need the build.
 */

import { STATIC_ROOT } from "./static.ts";

let cached: string | undefined;

export function clientEntry(): string {
  if (cached) return cached;
  try {
    const manifest = JSON.parse(Deno.readTextFileSync(`${STATIC_ROOT}/build/manifest.json`));
    cached = String(manifest.entry);
    return cached;
  } catch {
    throw new Error("the dashboard's browser bundle is not built: run `deno task build`");
  }
}
