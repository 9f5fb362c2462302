/**
 * `deno task compile`: one binary, dist/alertcircle, holding the service, its npm
 * dependencies and the built dashboard (static/). Packages only the tests and the
 * build use (Playwright, esbuild, fast-check, type declarations) are left out, which
 * keeps the binary a third smaller.
 *
 * `deno compile` adds Deno's `denort` runtime, which it downloads; where there is no
 * network, point DENORT_BIN at a denort binary of the same Deno version.
 */

const DEV_ONLY = /^(playwright-core|esbuild|@esbuild\+|fast-check|pure-rand|@types\+)/;

const root = new URL("../", import.meta.url).pathname;
const output = Deno.args[0] ?? "dist/alertcircle";
const excludes: string[] = [];
for await (const entry of Deno.readDir(`${root}node_modules/.deno`)) {
  if (!DEV_ONLY.test(entry.name)) continue;
  // "@esbuild+linux-x64@0.28.2" holds node_modules/@esbuild/linux-x64: exclude the package itself.
  const pkg = entry.name.slice(0, entry.name.lastIndexOf("@")).replace("+", "/");
  excludes.push("--exclude", `node_modules/.deno/${entry.name}/node_modules/${pkg}`);
}
const { code } = await new Deno.Command(Deno.execPath(), {
  args: ["compile", "-A", "--include", "static", ...excludes, "--output", output, "main.ts"],
  cwd: root,
  stdout: "inherit",
  stderr: "inherit",
}).output();
if (code === 0) {
  console.log(`built ${output}: run it like \`deno task start\`, configured by the same environment variables`);
}
Deno.exit(code);
