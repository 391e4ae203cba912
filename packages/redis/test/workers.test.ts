/**
 * One-machine mode: the conformance server with `--workers 2` shares one port between two
 * processes joined by Redis. WebSocket clients spread over both workers see each other's
 * broadcasts and presence, and a long-poll client works although its requests land on
 * different workers (they are forwarded to the session's owner over PubSub).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { LongPoll, Socket } from "phoenix";
import { WebSocket } from "ws";
import { call, connect, until, type Client, type Node } from "./support/cluster.js";
import { missing, reachable, REDIS_URL } from "./support/services.js";

const SERVER = fileURLToPath(new URL("../../../../apps/conformance/dist/src/server.js", import.meta.url));

/** The conformance server with `args` on a spare port and its own Redis namespace; its stdout and stderr lines are collected. */
function startServer(args: readonly string[], env: Record<string, string>): { child: ChildProcess; lines: string[] } {
  const child = spawn(process.execPath, [SERVER, ...args], {
    env: { ...process.env, PORT: "0", LOG_LEVEL: "warn", CINDER_REDIS_URL: REDIS_URL,
      CINDER_REDIS_NAMESPACE: `cinder-workers-${randomBytes(4).toString("hex")}`, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: string[] = [];
  child.stdout!.on("data", (chunk: Buffer) => lines.push(...chunk.toString().split("\n").filter(Boolean)));
  child.stderr!.on("data", (chunk: Buffer) => lines.push(chunk.toString()));
  return { child, lines };
}

/** SIGTERM (the drain), SIGKILL if it has not exited 6 s later. */
async function stopServer(child: ChildProcess): Promise<void> {
  child.kill("SIGTERM");
  await new Promise((resolve) => { child.once("exit", resolve); setTimeout(() => { child.kill("SIGKILL"); resolve(undefined); }, 6000); });
}

test("--workers 2: clients on both workers share broadcasts and presence; long-poll works across workers", { timeout: 60_000 }, async (t) => {
  if (!(await reachable(REDIS_URL))) { missing(t, `Redis at ${REDIS_URL}`); return; }
  const { child, lines } = startServer(["--workers", "2"], { CINDER_NODE_NAME: "box", CINDER_PRESENCE_BROADCAST_MS: "100" });
  const clients: Client[] = [];
  try {
    await until(() => lines.filter((l) => l.includes("listening on")).length === 2, 30_000, "two workers listening");
    const ports = new Set(lines.filter((l) => l.includes("listening on")).map((l) => /:(\d+) as node/.exec(l)![1]));
    assert.equal(ports.size, 1, "both workers share one port");
    const nodesSeen = new Set(lines.filter((l) => l.includes("listening on")).map((l) => /as node (\S+)/.exec(l)![1]));
    assert.deepEqual([...nodesSeen].sort(), ["box-w1", "box-w2"]);
    const node = { port: Number([...ports][0]) } as Node;
    for (let i = 0; i < 6; i++) clients.push(connect(node, `u${i}`, "shared"));
    for (const client of clients) await until(() => client.keys().length === 6, 8000, "all six members on every client");
    clients[0]!.echo.push("broadcast", { from: "u0" });
    for (const client of clients) await until(() => client.events.some(([e]) => e === "broadcasted"), 3000, "the broadcast on both workers");

    const lp = new Socket(`http://127.0.0.1:${node.port}/socket`, { transport: LongPoll, params: { user: "poller" } });
    lp.connect();
    const channel = lp.channel("echo:shared", {});
    const got: unknown[] = [];
    channel.on("broadcasted", (payload) => got.push(payload));
    const joined = await new Promise<string>((resolve) => {
      const push = channel.join();
      for (const status of ["ok", "error", "timeout"]) push.receive(status, () => resolve(status));
    });
    assert.equal(joined, "ok");
    for (let i = 0; i < 5; i++) assert.equal(await call(channel, "ping", { i }), "ok");
    clients[1]!.echo.push("broadcast", { from: "ws" });
    await until(() => got.some((p) => (p as { from: string }).from === "ws"), 5000, "a websocket broadcast reaching the long-poll client");
    lp.disconnect();
  } finally {
    for (const client of clients) client.socket.disconnect();
    await stopServer(child);
  }
});

/** Open descriptors of process `pid` (Linux /proc). */
function fds(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/** The pids of `parent`'s children (Linux /proc). */
function childrenOf(parent: number): number[] {
  const text = readFileSync(`/proc/${parent}/task/${parent}/children`, "utf8").trim();
  return text === "" ? [] : text.split(/\s+/).map(Number);
}

test("--workers 2 --accept shared: the workers take the connections themselves, both get some, the primary holds none", { timeout: 60_000 }, async (t) => {
  if (!(await reachable(REDIS_URL))) { missing(t, `Redis at ${REDIS_URL}`); return; }
  if (!existsSync("/proc/self/fd")) { t.skip("needs Linux /proc to count descriptors"); return; }
  const { child, lines } = startServer(["--workers", "2", "--accept", "shared"], { CINDER_NODE_NAME: "fds" });
  const sockets: WebSocket[] = [];
  try {
    await until(() => lines.filter((l) => l.includes("listening on")).length === 2, 30_000, "two workers listening");
    const port = Number(/:(\d+) as node/.exec(lines.find((l) => l.includes("listening on"))!)![1]);
    const workers = childrenOf(child.pid!);
    assert.equal(workers.length, 2);
    const before = { primary: fds(child.pid!), workers: workers.map(fds) };
    // Opened in waves, as clients arrive: a worker busy with a handshake leaves the next to the other.
    for (let wave = 0; wave < 10; wave++) {
      const opened = Array.from({ length: 30 }, () => new WebSocket(`ws://127.0.0.1:${port}/socket/websocket?vsn=2.0.0&user=w${wave}`));
      await Promise.all(opened.map((ws) => new Promise((resolve, reject) => { ws.onopen = resolve; ws.onerror = reject; })));
      sockets.push(...opened);
    }
    const held = workers.map((pid, i) => fds(pid) - before.workers[i]!);
    assert.ok(fds(child.pid!) <= before.primary + 2, `the primary holds no client sockets (${before.primary} → ${fds(child.pid!)} descriptors)`);
    assert.ok(held.every((n) => n > 0), `both workers accepted connections (${held.join(" + ")} of 300)`);
    // (±a few: the workers open and close other descriptors, e.g. Redis, meanwhile)
    assert.ok(held[0]! + held[1]! >= 290, `the connections are the workers' descriptors (${held.join(" + ")} of 300)`);
    for (const ws of sockets) ws.close();
    await until(() => workers.every((pid, i) => fds(pid) <= before.workers[i]! + 2), 10_000, "the workers' descriptors back to where they were");
  } finally {
    for (const ws of sockets) ws.close();
    await stopServer(child);
  }
});
