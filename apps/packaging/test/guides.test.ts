/**
 * The guides' code compiles: every ```ts block of docs/guides/*.md is written out as a module
 * (named by a first line `// file: name.ts`, else `<guide>-<n>.ts`, so blocks of one guide can
 * import each other) into a folder of this workspace, where `@cinder/*` resolve as in a user's
 * project, and type-checked with strict settings. Also runs TypeDoc (`npm run docs`'s check,
 * no output) and fails on any warning: every exported name must be documented.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);
const repo = fileURLToPath(new URL("../../../../", import.meta.url));
const guides = join(repo, "docs", "guides");

/** One ```ts block: the guide it is in, its file name, its code. */
interface Block { guide: string; file: string; code: string }

/** The ```ts blocks of one guide. */
export function blocksOf(guide: string, markdown: string): Block[] {
  const blocks: Block[] = [];
  const fence = /^```ts\n([\s\S]*?)^```$/gm;
  for (let match = fence.exec(markdown), n = 1; match !== null; match = fence.exec(markdown), n++) {
    const code = match[1]!;
    const named = /^\/\/ file: ([\w.-]+\.ts)\n/.exec(code);
    blocks.push({ guide, file: named ? named[1]! : `${guide.replace(/\.md$/, "")}-${n}.ts`, code });
  }
  return blocks;
}

/** Runs a command, returning its exit code and output (never throws on a non-zero exit). */
async function attempt(command: string, args: string[], cwd: string): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run(command, args, { cwd, timeout: 300_000, maxBuffer: 16 * 1024 * 1024 });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const { code, stdout, stderr } = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof code === "number" ? code : 1, output: `${stdout ?? ""}${stderr ?? ""}` };
  }
}

test("every ts block in docs/guides type-checks against the packages", async () => {
  const files = readdirSync(guides).filter((name) => name.endsWith(".md")).sort();
  const blocks = files.flatMap((name) => blocksOf(name, readFileSync(join(guides, name), "utf8")));
  assert.ok(blocks.length >= 10, `found ${blocks.length} blocks`);
  const names = blocks.map((b) => b.file);
  assert.equal(new Set(names).size, names.length, `block file names are unique: ${names.join(", ")}`);

  const dir = join(repo, "apps", "packaging", ".guides");
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const block of blocks) writeFileSync(join(dir, block.file), block.code);
  writeFileSync(join(dir, "tsconfig.json"), JSON.stringify({
    compilerOptions: {
      target: "ES2022", module: "NodeNext", moduleResolution: "NodeNext", lib: ["ES2023", "DOM"],
      strict: true, noEmit: true, skipLibCheck: true, types: ["node"], noUnusedLocals: false,
    },
    include: ["*.ts", "../../../types/phoenix.d.ts"],
  }, null, 2));
  const tsc = join(repo, "node_modules", "typescript", "bin", "tsc");
  const { code, output } = await attempt(process.execPath, [tsc, "-p", dir], repo);
  if (code === 0) rmSync(dir, { recursive: true, force: true });
  assert.equal(code, 0, `the guides' code does not compile (files kept in ${dir}):\n${output}`);
});

test("the API reference builds without warnings (every exported name documented)", async () => {
  const typedoc = join(repo, "node_modules", "typedoc", "bin", "typedoc");
  const { code, output } = await attempt(process.execPath, [typedoc, "--emit", "none", "--logLevel", "Warn"], repo);
  assert.equal(code, 0, output);
  assert.doesNotMatch(output, /warning|error/i, output);
});
