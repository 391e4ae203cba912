/**
 * One-machine mode survives its IPC failing: a connection handed to a worker that just died
 * fails with EPIPE, which node:cluster re-emits as the worker's 'error' event (seen in the
 * recovery bench at 10,000 clients), and a worker whose primary was killed gets the same on its
 * own process. Neither may crash the process with an unhandled 'error' event.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const WORKERS = fileURLToPath(new URL("../src/node/workers.js", import.meta.url));

test("an IPC error on a worker (primary side) or on the primary's channel (worker side) is logged, not a crash", { timeout: 30_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), "cinder-workers-"));
  const script = join(dir, "server.mjs");
  writeFileSync(script, `
import cluster from "node:cluster";
import { createServer } from "node:http";
import { forkWorkers } from ${JSON.stringify(WORKERS)};
const role = forkWorkers(2, (line) => console.log("log: " + line));
if (role.role === "primary") {
  let listening = 0;
  cluster.on("listening", () => {
    if (++listening !== 2) return;
    const worker = Object.values(cluster.workers)[0];
    worker.process.emit("error", Object.assign(new Error("write EPIPE"), { code: "EPIPE" }));
    worker.send("emit-error");
    setTimeout(() => { console.log("primary alive, workers " + Object.keys(cluster.workers).length); process.exit(0); }, 500);
  });
} else {
  process.on("message", (m) => { if (m === "emit-error") process.emit("error", Object.assign(new Error("write EPIPE"), { code: "EPIPE" })); });
  createServer((_q, r) => r.end()).listen(0, "127.0.0.1");
}
`);
  try {
    const child = spawn(process.execPath, [script], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout!.on("data", (chunk: Buffer) => { out += chunk.toString(); });
    child.stderr!.on("data", (chunk: Buffer) => { out += chunk.toString(); });
    const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
    assert.doesNotMatch(out, /Unhandled 'error' event/);
    assert.match(out, /log: worker \d+: write EPIPE/, "the primary logs the worker's IPC error");
    assert.match(out, /log: worker \d+: channel to the primary failed: write EPIPE/, "the worker logs its own");
    assert.match(out, /primary alive, workers 2/);
    assert.equal(code, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
