/**
 * One-machine mode when workers fill up: a real `serve` server with 2 workers, started under a
 * soft fd limit of 256 (so each worker holds at most 256 − 64 = 192 connections) and an endpoint
 * `maxConnections` above it, the case where descriptors run out first. Real WebSockets (`ws`):
 *
 * - balance by load: after every client of one worker left, new clients go to that worker until
 *   the two hold the same (strict round-robin would keep them apart);
 * - 300 clients beyond capacity are each answered within 2 s with HTTP 503, `Retry-After: 1` and a
 *   plain-text body from the primary, which logs one line for the burst; no handshake hangs and
 *   both workers end at their capacity;
 * - after every client left, the primary's and the workers' open descriptors (/proc/<pid>/fd)
 *   are back to what they were before the first client, within a few.
 *
 * Both ways the primary takes connections (native handles; `net.Socket`s) are run.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { WebSocket } from "ws";

const SERVER = fileURLToPath(new URL("../src/index.js", import.meta.url));
const SERVE = fileURLToPath(new URL("../src/node/serve.js", import.meta.url));
const FD_LIMIT = 256;
/** What each worker may hold: the fd limit minus its reserve (fdReserve: a quarter here). */
const CAPACITY = FD_LIMIT - FD_LIMIT / 4;
/** Clients beyond the capacity of both. */
const OVER = 300;

const FIXTURE = `
import { createServer } from "node:http";
import { attach, defineChannel, defineSocket, ok, silentLogger } from ${JSON.stringify(SERVER)};
import { serve } from ${JSON.stringify(SERVE)};
await serve({
  port: 0, host: "127.0.0.1", args: { workers: 2 },
  start() {
    const server = createServer((_q, r) => r.writeHead(404).end());
    const socket = defineSocket({ connect: () => ({}), channels: { "room:*": defineChannel({ join: () => ok({ pid: process.pid }) }) } });
    const endpoint = attach(server, { socket, checkOrigin: false, logger: silentLogger, joinRate: false,
      maxConnections: Number(process.env.TEST_MAX_CONNECTIONS) });
    return { server, drain: () => endpoint.drain(100) };
  },
  banner: (port) => "listening on " + port + " pid " + process.pid,
});
`;

/** How one client fared: joined (on which worker), refused (status, headers, body), or neither. */
type Attempt =
  | { kind: "joined"; pid: number; ws: WebSocket }
  | { kind: "refused"; status: number; retryAfter: string | undefined; body: string; ms: number }
  | { kind: "failed"; error: string; ms: number };

function attempt(port: number): Promise<Attempt> {
  const started = performance.now();
  return new Promise((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/socket/websocket?vsn=2.0.0`, { handshakeTimeout: 5_000 });
    ws.on("open", () => ws.send(JSON.stringify(["1", "1", "room:a", "phx_join", {}])));
    ws.on("message", (data: Buffer) => {
      const [, , , event, payload] = JSON.parse(data.toString()) as [unknown, unknown, string, string, { response?: { pid?: number } }];
      if (event === "phx_reply" && typeof payload.response?.pid === "number") resolve({ kind: "joined", pid: payload.response.pid, ws });
    });
    ws.on("unexpected-response", (request, response) => {
      let body = "";
      response.on("data", (chunk: Buffer) => { body += chunk.toString(); });
      response.on("end", () => {
        request.destroy();
        resolve({ kind: "refused", status: response.statusCode ?? 0, retryAfter: response.headers["retry-after"], body, ms: performance.now() - started });
      });
    });
    ws.on("error", (error) => resolve({ kind: "failed", error: error.message, ms: performance.now() - started }));
  });
}

/** `n` attempts, at most `parallel` at once. */
async function attempts(port: number, n: number, parallel = 50): Promise<Attempt[]> {
  const all: Attempt[] = [];
  for (let i = 0; i < n; i += parallel) {
    all.push(...await Promise.all(Array.from({ length: Math.min(parallel, n - i) }, () => attempt(port))));
  }
  return all;
}

const fds = (pid: number): number => readdirSync(`/proc/${pid}/fd`).length;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function until(check: () => boolean, ms: number): Promise<boolean> {
  for (const end = performance.now() + ms; performance.now() < end; await sleep(50)) if (check()) return true;
  return check();
}

async function closeAll(joined: WebSocket[]): Promise<void> {
  await Promise.all(joined.map((ws) => new Promise<void>((resolve) => {
    if (ws.readyState === WebSocket.CLOSED) return resolve();
    ws.once("close", () => resolve());
    ws.close();
  })));
}

/** The whole scenario against a fresh server; `env` is added to the server's environment. */
async function scenario(env: Record<string, string>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "cinder-capacity-"));
  const script = join(dir, "server.mjs");
  writeFileSync(script, FIXTURE);
  const primary: ChildProcess = spawn("sh", ["-c", `ulimit -n ${FD_LIMIT} && exec "${process.execPath}" "${script}"`], {
    env: { ...process.env, TEST_MAX_CONNECTIONS: "100000", ...env }, stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: string[] = [];
  primary.stdout!.on("data", (chunk: Buffer) => lines.push(...chunk.toString().split("\n").filter(Boolean)));
  primary.stderr!.on("data", (chunk: Buffer) => lines.push(...chunk.toString().split("\n").filter(Boolean)));
  const joined: WebSocket[] = [];
  try {
    assert.ok(await until(() => lines.filter((l) => l.startsWith("listening on")).length === 2, 20_000), `two workers up: ${lines.join("\n")}`);
    const banners = lines.filter((l) => l.startsWith("listening on")).map((l) => /on (\d+) pid (\d+)/.exec(l)!);
    const port = Number(banners[0]![1]);
    const [a, b] = banners.map((m) => Number(m[2])) as [number, number];
    await sleep(300);
    const baseline = { primary: fds(primary.pid!), a: fds(a), b: fds(b) };

    const perWorker = (): Record<number, number> => {
      const counts: Record<number, number> = { [a]: 0, [b]: 0 };
      for (const ws of joined) if (ws.readyState === WebSocket.OPEN) counts[(ws as WebSocket & { pid: number }).pid]!++;
      return counts;
    };
    const keep = (results: Attempt[]): void => {
      for (const r of results) if (r.kind === "joined") joined.push(Object.assign(r.ws, { pid: r.pid }));
    };

    // Balance by load: 60 clients, then those of worker `a` leave, then 60 more.
    keep(await attempts(port, 60));
    assert.equal(joined.length, 60, "60 joined");
    await closeAll(joined.filter((ws) => (ws as WebSocket & { pid: number }).pid === a));
    await sleep(300);
    const before = perWorker();
    keep(await attempts(port, 60));
    const after = perWorker();
    assert.ok(Math.abs(after[a]! - after[b]!) <= 3,
      `new clients fill the emptier worker: before ${JSON.stringify(before)}, after ${JSON.stringify(after)} (${a} had lost its clients)`);

    // Beyond capacity: fill both workers, and 300 more.
    const open = after[a]! + after[b]!;
    const results = await attempts(port, 2 * CAPACITY - open + OVER);
    keep(results);
    const refused = results.filter((r) => r.kind === "refused");
    const failed = results.filter((r) => r.kind === "failed");
    const split = perWorker();
    assert.deepEqual(failed.slice(0, 3), [], `${failed.length} handshakes failed or hung instead of a 503`);
    assert.ok(refused.length >= OVER, `${refused.length} refused (${OVER} over capacity expected); split ${JSON.stringify(split)}`);
    for (const r of refused) {
      assert.equal(r.status, 503);
      assert.equal(r.retryAfter, "1");
      assert.match(r.body, /^server full: every worker holds its limit/);
      assert.ok(r.ms < 2_000, `refused after ${Math.round(r.ms)} ms`);
    }
    assert.ok(split[a]! >= CAPACITY - 2 && split[b]! >= CAPACITY - 2 && split[a]! <= CAPACITY && split[b]! <= CAPACITY,
      `each worker holds its capacity ${CAPACITY}: ${JSON.stringify(split)}`);
    assert.ok(await until(() => lines.some((l) => l.includes("connection refused (503, full)")), 2_000), "the primary logs the refusals");
    assert.equal(lines.filter((l) => l.includes("connection refused")).length, 1, "one log line for the burst");

    // Leak nothing: every client leaves, and the descriptors come back.
    await closeAll(joined);
    const settled = await until(() => fds(primary.pid!) <= baseline.primary + 3 && fds(a) <= baseline.a + 3 && fds(b) <= baseline.b + 3, 5_000);
    const now = { primary: fds(primary.pid!), a: fds(a), b: fds(b) };
    assert.ok(settled, `descriptors back to baseline: before ${JSON.stringify(baseline)}, 5 s after the last close ${JSON.stringify(now)}`);
  } finally {
    for (const ws of joined) ws.terminate();
    primary.kill("SIGTERM");
    await new Promise((resolve) => primary.once("exit", resolve));
    rmSync(dir, { recursive: true, force: true });
  }
}

test("2 workers at their fd-bound capacity: load-balanced, the rest refused with 503 at once, nothing leaked", { timeout: 90_000 }, () =>
  scenario({}));

test("the same when the primary hands over net.Sockets (CINDER_HANDOFF_SOCKETS=1, the public-API path)", { timeout: 90_000 }, () =>
  scenario({ CINDER_HANDOFF_SOCKETS: "1" }));
