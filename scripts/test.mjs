// Runs node's test runner over the compiled test files (dist/test/**/*.test.js) of every
// workspace, or of the workspaces given as arguments. One process per file, as node --test does.
import { readdirSync, statSync, existsSync } from "node:fs";
import { join } from "node:path";
import { spawnSync } from "node:child_process";

const roots = process.argv.slice(2);
const workspaces = roots.length > 0 ? roots : ["packages", "apps", "bench", "examples"].flatMap((dir) =>
  existsSync(dir) ? readdirSync(dir).map((name) => join(dir, name)) : []);

/** Compiled tests under `dir` whose TypeScript source still exists (tsc keeps outputs of deleted files). */
function collect(dir, sourceDir, out) {
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) collect(path, join(sourceDir, name), out);
    else if (name.endsWith(".test.js") && existsSync(join(sourceDir, name.replace(/\.js$/, ".ts")))) out.push(path);
  }
  return out;
}

const files = workspaces.flatMap((ws) => collect(join(ws, "dist", "test"), join(ws, "test"), []));
if (files.length === 0) {
  console.error("no test files found under", workspaces.join(", "));
  process.exit(1);
}
// Three files at a time: the browser and cluster tests mostly wait (timers, other processes), so
// on 2 cores three keep the CPU busier without starving one (2: ~560 s; 3: ~455 s, 2026-12-03).
const concurrency = process.env.CINDER_TEST_CONCURRENCY ?? "3";
const result = spawnSync(process.execPath,
  ["--test", `--test-concurrency=${concurrency}`, ...files], { stdio: "inherit" });
process.exit(result.status ?? 1);
