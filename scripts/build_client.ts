/**
 * Builds the browser side: bundles the island entry (islands/client.ts) with esbuild into
 * static/build/ with content-hashed names, writes static/build/manifest.json naming the
 * entry, and copies Leaflet's CSS and marker images into static/vendor/leaflet/ so the
 * page needs no CDN. Run by `deno task build` (and so by start, test and compile).
 */

import * as esbuild from "esbuild";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const out = `${root}static/build`;
const vendor = `${root}static/vendor/leaflet`;
const dev = Deno.args.includes("--dev");

await Deno.remove(out, { recursive: true }).catch(() => {});
const result = await esbuild.build({
  absWorkingDir: root,
  entryPoints: ["islands/client.ts"],
  bundle: true,
  format: "esm",
  splitting: true,
  platform: "browser",
  target: ["es2022"],
  outdir: out,
  entryNames: "[name]-[hash]",
  chunkNames: "chunk-[hash]",
  jsx: "automatic",
  jsxImportSource: "preact",
  minify: !dev,
  sourcemap: "linked",
  metafile: true,
  logLevel: "warning",
});
await esbuild.stop();

const entry = Object.entries(result.metafile!.outputs).find(([, o]) => o.entryPoint === "islands/client.ts");
if (!entry) throw new Error("esbuild produced no entry bundle");
const entryPath = "/static/build/" + entry[0].split("/").pop();
await Deno.writeTextFile(`${out}/manifest.json`, JSON.stringify({ entry: entryPath }, null, 2) + "\n");

await Deno.mkdir(`${vendor}/images`, { recursive: true });
const dist = `${root}node_modules/leaflet/dist`;
await Deno.copyFile(`${dist}/leaflet.css`, `${vendor}/leaflet.css`);
for await (const f of Deno.readDir(`${dist}/images`)) {
  await Deno.copyFile(`${dist}/images/${f.name}`, `${vendor}/images/${f.name}`);
}

const bytes = Object.values(result.metafile!.outputs).reduce((n, o) => n + o.bytes, 0);
console.log(`built ${entryPath} (${Math.round(bytes / 1024)} KiB with chunks and maps)`);
