// Builds the browser bundle of @cinder/client: one minified ESM file,
// dist/browser/cinder-client.min.js, bundled straight from src/ with esbuild (so it does not
// depend on `tsc -b` having run first); @cinder/protocol is bundled in from its own src/ too
// (its package.json "source" export condition). Prints its size, minified and gzipped.
// Run by this package's `prepare` script, i.e. on every `npm install` / `npm ci` at the root.
import { build } from "esbuild";
import { gzipSync } from "node:zlib";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const outfile = join(root, "dist", "browser", "cinder-client.min.js");

await build({
  entryPoints: [join(root, "src", "index.ts")],
  outfile,
  bundle: true,
  format: "esm",
  platform: "browser",
  conditions: ["source"],
  target: ["es2022"],
  minify: true,
  sourcemap: true,
  legalComments: "none",
  logLevel: "warning",
});

const code = readFileSync(outfile);
const kb = (n) => `${(n / 1024).toFixed(1)} KiB`;
console.log(`@cinder/client browser build: ${outfile} — ${kb(code.length)} minified, ${kb(gzipSync(code, { level: 9 }).length)} gzipped`);
