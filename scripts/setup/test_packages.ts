/**
 * Makes sure Debian's Chromium is installed for the browser tests: playwright-core
 * drives it, since a browser download of Playwright's own cannot work here. Installs it
 * with apt-get when missing and we are root (CI and fresh machines); otherwise says
 * exactly what to do.
 */

import { CHROMIUM } from "../../tests/support/browser.ts";

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

async function run(cmd: string, args: string[]): Promise<void> {
  const { code } = await new Deno.Command(cmd, {
    args,
    env: { DEBIAN_FRONTEND: "noninteractive" },
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  if (code !== 0) throw new Error(`${cmd} ${args.join(" ")} failed with exit code ${code}`);
}

export async function ensureChromium(): Promise<void> {
  if (await exists(CHROMIUM)) return;
  if (Deno.uid() !== 0) {
    throw new Error(
      `Chromium is missing at ${CHROMIUM}: install Debian's chromium package (sudo apt-get install chromium)`,
    );
  }
  console.log("installing Debian's chromium for the browser tests…");
  await run("apt-get", ["update", "-qq"]);
  await run("apt-get", ["install", "-y", "-qq", "--no-install-recommends", "chromium", "fonts-dejavu-core"]);
  if (!await exists(CHROMIUM)) throw new Error(`apt-get installed chromium but ${CHROMIUM} is still missing`);
}

if (import.meta.main) await ensureChromium();
