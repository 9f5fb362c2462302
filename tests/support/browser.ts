/**
 * Headless Chromium for browser tests, through playwright-core and Debian's chromium
 * (no browser download). The flags keep it off the network: this machine has none, and
 * Chromium's background services would otherwise fail noisily.
 */

import { chromium } from "playwright-core";
import type { Browser } from "playwright-core";

export const CHROMIUM = Deno.env.get("CHROMIUM_PATH") ?? "/usr/bin/chromium";

export async function launchBrowser(): Promise<Browser> {
  try {
    await Deno.stat(CHROMIUM);
  } catch {
    throw new Error(`Chromium not found at ${CHROMIUM}: run \`deno task test\` (it installs it) or set CHROMIUM_PATH`);
  }
  return await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--disable-dev-shm-usage",
    ],
  });
}

export const ARTIFACTS = new URL("../artifacts/", import.meta.url);
