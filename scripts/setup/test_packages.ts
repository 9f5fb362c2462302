/**
 * Makes sure the Debian packages the tests use are installed: Chromium for the browser
 * tests (playwright-core drives it, since Playwright's own browser download cannot work
 * here), kcat, the independent Kafka client the integration tests read topics with, and
 * the benchmark peers Redis and PostgreSQL + PostGIS, whose smoke tests run too.
 * Installs them with apt-get when missing and we are root (CI and fresh machines);
 * otherwise says exactly what to do.
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

const NEEDED: Array<{ path: string; packages: string[] }> = [
  { path: CHROMIUM, packages: ["chromium", "fonts-dejavu-core"] },
  { path: "/usr/bin/kcat", packages: ["kcat"] },
  // The benchmark peers, whose smoke tests run with the rest (bench/peers/).
  { path: "/usr/bin/redis-server", packages: ["redis-server"] },
  { path: "/usr/lib/postgresql/15/bin/postgres", packages: ["postgresql-15"] },
  { path: "/usr/share/postgresql/15/extension/postgis.control", packages: ["postgresql-15-postgis-3"] },
];

export async function ensureTestPackages(): Promise<void> {
  const missing: string[] = [];
  for (const n of NEEDED) if (!await exists(n.path)) missing.push(...n.packages);
  if (missing.length === 0) return;
  if (Deno.uid() !== 0) {
    throw new Error(
      `missing for the tests: ${missing.join(", ")}; install them: sudo apt-get install ${missing.join(" ")}`,
    );
  }
  console.log(`installing Debian packages for the tests: ${missing.join(", ")}…`);
  await run("apt-get", ["update", "-qq"]);
  await run("apt-get", ["install", "-y", "-qq", "--no-install-recommends", ...missing]);
  for (const n of NEEDED) if (!await exists(n.path)) throw new Error(`apt-get ran but ${n.path} is still missing`);
}

if (import.meta.main) await ensureTestPackages();
