/**
 * The packages as a user gets them: `npm pack` each published package, install the tarballs
 * into a fresh project outside the workspace (apps/packaging/fixture, copied to a temporary
 * folder), type-check a TypeScript file using the public API under `moduleResolution`
 * "nodenext" and "bundler", run a server and a client from it, and load two browser pages in
 * Chromium: one bundled by Vite from `import "@cinder/client"`, one importing the single-file
 * browser build as a CDN would serve it.
 *
 * The install needs the npm registry (or npm's cache, `--prefer-offline`) for the packages'
 * own dependencies (ws, ioredis, prom-client, ...).
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { chromium } from "playwright-core";

const run = promisify(execFile);
const repo = fileURLToPath(new URL("../../../../", import.meta.url));
const fixture = join(repo, "apps", "packaging", "fixture");
const CHROMIUM = process.env.CINDER_CHROMIUM ?? "/usr/bin/chromium";
const requireServices = process.env.CINDER_REQUIRE_SERVICES === "1";

/** The packages published to npm, by workspace folder. */
const PUBLISHED = ["protocol", "server", "client", "redis", "metrics", "dashboard"] as const;

/** What `npm pack --json` says of one tarball. */
interface Packed { name: string; filename: string; files: { path: string }[] }

let work: string;
let app: string;
let packed: Packed[] = [];

/** Runs `command` in `cwd`, failing with its output when it fails. */
async function sh(command: string, args: string[], cwd: string, timeoutMs = 180_000): Promise<string> {
  try {
    const { stdout } = await run(command, args, { cwd, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 });
    return stdout;
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`${command} ${args.join(" ")} failed in ${cwd}:\n${stdout ?? ""}\n${stderr ?? ""}`, { cause: error });
  }
}

/** Compiles the fresh project under `nodenext` into dist/ (once; later calls share the result). */
let compiling: Promise<string> | undefined;
function compileApp(): Promise<string> {
  compiling ??= sh(process.execPath, [join(app, "node_modules", "typescript", "bin", "tsc"), "-p", "tsconfig.json"], app);
  return compiling;
}

/** A version range from the root's devDependencies, so the install matches the lockfile's cache. */
function rootDev(name: string): string {
  const root = JSON.parse(readFileSync(join(repo, "package.json"), "utf8")) as { devDependencies: Record<string, string> };
  const range = root.devDependencies[name];
  assert.ok(range, `${name} in the root devDependencies`);
  return `${name}@${range}`;
}

before(async () => {
  work = mkdtempSync(join(tmpdir(), "cinder-pack-"));
  const packs = join(work, "packs");
  mkdirSync(packs);
  const workspaces = PUBLISHED.flatMap((name) => ["-w", `packages/${name}`]);
  // dist/ is built by `tsc -b` (npm test runs it first) and the browser file by the root's prepare.
  packed = JSON.parse(await sh("npm", ["pack", "--json", "--ignore-scripts", "--pack-destination", packs, ...workspaces], repo)) as Packed[];
  app = join(work, "app");
  cpSync(fixture, app, { recursive: true });
  const tarballs = packed.map((p) => join(packs, p.filename));
  await sh("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error",
    ...tarballs, rootDev("typescript"), rootDev("@types/node"), rootDev("@types/ws"), "ws@^8.18.0"], app, 300_000);
});

after(() => { if (work) rmSync(work, { recursive: true, force: true }); });

test("every published package ships a manifest a registry user can rely on", () => {
  assert.deepEqual(packed.map((p) => p.name).sort(), PUBLISHED.map((n) => `@cinder/${n}`).sort());
  for (const p of packed) {
    const manifest = JSON.parse(readFileSync(join(app, "node_modules", p.name, "package.json"), "utf8")) as {
      version?: string; license?: string; engines?: { node?: string }; files?: string[]; scripts?: Record<string, string>;
      exports?: Record<string, string | Record<string, string>>; repository?: unknown;
    };
    assert.match(manifest.version ?? "", /^\d+\.\d+\.\d+/, `${p.name} has a version`);
    assert.equal(manifest.license, "MIT", `${p.name} has a license`);
    assert.equal(manifest.engines?.node, ">=20", `${p.name} says which Node it needs`);
    assert.ok(manifest.files && manifest.files.length > 0, `${p.name} lists its files`);
    assert.equal(manifest.scripts?.prepare, undefined, `${p.name} runs no install-time script in a user's project`);
    const paths = new Set(p.files.map((f) => f.path));
    for (const file of ["README.md", "LICENSE", "package.json"]) assert.ok(paths.has(file), `${p.name} ships ${file}`);
    assert.ok(![...paths].some((f) => f.startsWith("test/") || f.startsWith("dist/test/") || f.startsWith("src/") && f.endsWith(".test.ts")),
      `${p.name} ships no tests`);
    assert.ok(manifest.exports, `${p.name} has exports`);
    for (const [subpath, target] of Object.entries(manifest.exports)) {
      const targets = typeof target === "string" ? { default: target } : target;
      if (typeof target !== "string") assert.ok(targets.types, `${p.name} exports types for ${subpath}`);
      for (const [condition, file] of Object.entries(targets)) {
        assert.ok(existsSync(join(app, "node_modules", p.name, file)), `${p.name} "${subpath}" (${condition}) → ${file} exists in the tarball`);
      }
    }
  }
});

test("a TypeScript file using the public API type-checks under nodenext and bundler resolution", async () => {
  await compileApp();                                                     // nodenext, emits dist/
  await sh(process.execPath, [join(app, "node_modules", "typescript", "bin", "tsc"), "-p", "tsconfig.bundler.json"], app);  // bundler, no emit
  assert.ok(existsSync(join(app, "dist", "app.js")));
});

test("a server and a client run from the installed packages", async () => {
  await compileApp();
  const out = await sh(process.execPath, ["dist/app.js"], app, 30_000);
  const seen = JSON.parse(out.trim().split("\n").at(-1) ?? "{}") as Record<string, unknown>;
  assert.deepEqual(seen, { joinReply: { hello: "ada" }, reply: { echoed: true }, broadcast: { body: "hi" }, roster: ["ada"] });
});

test("the browser client works bundled by Vite and as the single-file build", async (t) => {
  if (!existsSync(CHROMIUM)) {
    const missing = `${CHROMIUM} is not installed (apt-get install chromium)`;
    if (requireServices) assert.fail(`${missing}, and CINDER_REQUIRE_SERVICES=1 requires the browser tests`);
    t.skip(`${missing}: skipping the Vite page test`);
    return;
  }
  await compileApp();
  const { build } = await import("vite");
  await build({ root: join(app, "web"), logLevel: "warn", build: { outDir: join(app, "web-dist"), emptyOutDir: true } });
  const bundled = readFileSync(join(app, "web-dist", "index.html"), "utf8");
  assert.match(bundled, /assets\/.*\.js/, "Vite wrote a bundle");

  const server: ChildProcess = spawn(process.execPath, ["dist/serve.js"], { cwd: app, stdio: ["ignore", "pipe", "inherit"] });
  t.after(() => server.kill());
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("the consumer's server did not start")), 15_000);
    server.stdout?.on("data", (chunk: Buffer) => {
      const match = /listening (\d+)/.exec(chunk.toString());
      if (match) { clearTimeout(timer); resolve(Number(match[1])); }
    });
    server.once("exit", (code) => reject(new Error(`the consumer's server exited (${code})`)));
  });

  const browser = await chromium.launch({
    executablePath: CHROMIUM, headless: true, timeout: 20_000,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  t.after(() => browser.close());
  for (const [path, user] of [["/", "vite"], ["/cdn.html", "cdn"]] as const) {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(String(error)));
    await page.goto(`http://127.0.0.1:${port}${path}`);
    await page.waitForFunction(() => document.getElementById("status")?.textContent?.startsWith("joined") === true, undefined, { timeout: 10_000 })
      .catch(async () => assert.fail(`${path}: ${await page.textContent("#status")} ${errors.join("; ")}`));
    assert.equal(await page.textContent("#status"), 'joined, reply {"echoed":true}', path);
    if (user === "vite") {
      await page.waitForFunction(() => document.body.dataset.roster === "vite", undefined, { timeout: 10_000 });
    }
    assert.deepEqual(errors, [], `${path} threw no page errors`);
    await page.close();
  }
});
