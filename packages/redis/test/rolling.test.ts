/**
 * Deploys that refuse nothing: the conformance server with `--workers 3` on one port, 30
 * phoenix.js clients in one presence room. SIGTERM to one worker, and separately a rolling
 * restart of every worker (SIGHUP to the primary), must leave every client back, with no
 * handshake refused on the way (a WebSocket that never opened counts as refused), and presence
 * showing each user exactly once at the end. The clients opt in to online/offline: during the
 * rolling restart no client gets a `presence_offline` or `presence_online` (no user flickers; with
 * the 3 s default leave grace, while each client's move takes well under it).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { WebSocket } from "ws";
import { connect, until, type Client } from "./support/cluster.js";
import { missing, reachable, REDIS_URL } from "./support/services.js";

const SERVER = fileURLToPath(new URL("../../../../apps/conformance/dist/src/server.js", import.meta.url));
const USERS = 30;

/** Handshakes that never opened (refused with a status, or the TCP connection refused), across all clients. */
const refused: string[] = [];

/** ws's WebSocket, counting the connections that fail before they open. */
class CountingWebSocket extends WebSocket {
  constructor(url: string | URL, protocols?: string | string[]) {
    super(url, protocols);
    let opened = false;
    this.once("open", () => { opened = true; });
    this.once("error", (error) => { if (!opened) refused.push(error.message); });
  }
}

/** The primary of a `--workers 3` conformance server, its output, and its port. */
interface Box {
  primary: ChildProcess;
  lines: string[];
  port: number;
}

async function startBox(): Promise<Box> {
  const primary = spawn(process.execPath, [SERVER, "--workers", "3"], {
    env: { ...process.env, PORT: "0", LOG_LEVEL: "warn", CINDER_REDIS_URL: REDIS_URL, CINDER_NODE_NAME: "box",
      CINDER_REDIS_NAMESPACE: `cinder-rolling-${randomBytes(4).toString("hex")}`, CINDER_PRESENCE_BROADCAST_MS: "100",
      CINDER_PRESENCE_DOWN_MS: "2000", CINDER_DRAIN_WINDOW_MS: "2000" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: string[] = [];
  primary.stdout!.on("data", (chunk: Buffer) => lines.push(...chunk.toString().split("\n").filter(Boolean)));
  primary.stderr!.on("data", (chunk: Buffer) => lines.push(...chunk.toString().split("\n").filter(Boolean)));
  await until(() => listening(lines) === 3, 15_000, "three workers listening");
  const port = Number(/:(\d+) as node/.exec(lines.find((l) => l.includes("listening on"))!)![1]);
  return { primary, lines, port };
}

const listening = (lines: string[]): number => lines.filter((l) => l.includes("listening on")).length;

/** The worker processes' pids (children of the primary). */
function workerPids(primary: ChildProcess): number[] {
  return execFileSync("ps", ["-o", "pid=", "--ppid", String(primary.pid)], { encoding: "utf8" })
    .split("\n").map((s) => Number(s.trim())).filter((n) => n > 0);
}

/** Every client connected, and seeing every user exactly once (one presence meta each). */
function settled(clients: Client[]): boolean {
  return clients.every((client) => client.socket.isConnected()
    && client.keys().length === USERS
    && client.presence.list((_key, { metas }) => metas.length).every((n) => n === 1));
}

async function withBox(run: (box: Box, clients: Client[]) => Promise<void>): Promise<void> {
  refused.length = 0;
  const box = await startBox();
  const clients: Client[] = [];
  try {
    for (let i = 0; i < USERS; i++) clients.push(connect(box, `u${i}`, "deploy", CountingWebSocket, { online: true }));
    await until(() => settled(clients), 20_000, "all clients joined, each user once");
    await new Promise((resolve) => setTimeout(resolve, 500));
    for (const client of clients) client.online.length = 0;
    await run(box, clients);
  } finally {
    for (const client of clients) client.socket.disconnect();
    box.primary.kill("SIGTERM");
    await new Promise((resolve) => { box.primary.once("exit", resolve); setTimeout(() => { box.primary.kill("SIGKILL"); resolve(undefined); }, 10_000); });
  }
}

test("SIGTERM to one of three workers: its clients reconnect to the others, none refused; each user once", { timeout: 90_000 }, async (t) => {
  if (!(await reachable(REDIS_URL))) { missing(t, `Redis at ${REDIS_URL}`); return; }
  await withBox(async (box, clients) => {
    const [victim] = workerPids(box.primary);
    process.kill(victim!, "SIGTERM");
    await until(() => listening(box.lines) === 4, 20_000, "the primary replacing the stopped worker");
    await until(() => settled(clients), 20_000, "every client back, each user once");
    const moved = clients.filter((c) => c.closeCodes.includes(1012)).length;
    t.diagnostic(`clients told to reconnect (1012): ${moved}; handshakes refused: ${refused.length}`);
    assert.ok(moved > 0, "some clients were on the stopped worker");
    assert.deepEqual(refused, [], "no reconnect was refused");
  });
});

test("rolling restart of all three workers (SIGHUP): every client back, none refused; each user once", { timeout: 120_000 }, async (t) => {
  if (!(await reachable(REDIS_URL))) { missing(t, `Redis at ${REDIS_URL}`); return; }
  await withBox(async (box, clients) => {
    const before = new Set(workerPids(box.primary));
    box.primary.kill("SIGHUP");
    await until(() => box.lines.some((l) => l.includes("rolling restart done")), 60_000, "the rolling restart");
    await until(() => settled(clients), 20_000, "every client back, each user once");
    const after = workerPids(box.primary);
    const moved = clients.filter((c) => c.closeCodes.includes(1012)).length;
    t.diagnostic(`clients told to reconnect (1012): ${moved}; handshakes refused: ${refused.length}`);
    assert.equal(after.length, 3, "three workers again");
    assert.ok(after.every((pid) => !before.has(pid)), "every worker was replaced");
    assert.equal(moved, USERS, "every client was moved at least once");
    assert.deepEqual(refused, [], "no reconnect was refused");
    const flicker = clients.flatMap((c) => c.online);
    t.diagnostic(`online/offline events during the rolling restart, over all clients: ${flicker.length}`);
    assert.deepEqual(flicker, [], "no user went offline (or came back online) for any client: no flicker");
  });
});
