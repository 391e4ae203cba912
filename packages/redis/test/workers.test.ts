/**
 * One-machine mode: the conformance server with `--workers 2` shares one port between two
 * processes joined by Redis. WebSocket clients spread over both workers see each other's
 * broadcasts and presence, and a long-poll client works although its requests land on
 * different workers (they are forwarded to the session's owner over PubSub).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { LongPoll, Socket } from "phoenix";
import { call, connect, until, type Client, type Node } from "./support/cluster.js";
import { missing, reachable, REDIS_URL } from "./support/services.js";

const SERVER = fileURLToPath(new URL("../../../../apps/conformance/dist/src/server.js", import.meta.url));

test("--workers 2: clients on both workers share broadcasts and presence; long-poll works across workers", { timeout: 60_000 }, async (t) => {
  if (!(await reachable(REDIS_URL))) { missing(t, `Redis at ${REDIS_URL}`); return; }
  const child = spawn(process.execPath, [SERVER, "--workers", "2"], {
    env: { ...process.env, PORT: "0", LOG_LEVEL: "warn", CINDER_REDIS_URL: REDIS_URL, CINDER_NODE_NAME: "box",
      CINDER_REDIS_NAMESPACE: `cinder-workers-${randomBytes(4).toString("hex")}`, CINDER_PRESENCE_BROADCAST_MS: "100" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: string[] = [];
  child.stdout!.on("data", (chunk: Buffer) => lines.push(...chunk.toString().split("\n").filter(Boolean)));
  child.stderr!.on("data", (chunk: Buffer) => lines.push(chunk.toString()));
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
    child.kill("SIGTERM");
    await new Promise((resolve) => { child.once("exit", resolve); setTimeout(() => { child.kill("SIGKILL"); resolve(undefined); }, 6000); });
  }
});
