/**
 * @cinder/dashboard across a two-node cluster (real Redis, two endpoints, official `phoenix`
 * clients): an operator joined on node a receives both nodes' snapshots, each tagged with its
 * node name and counting its own connections and joined channels; a non-operator's join is
 * refused; a rate-limited join counts on its node only; `disconnect_socket` sent on node a
 * closes a socket connected to node b; bad payloads get a clear error. And `page` and
 * `serveClient` give the HTML page and the client bundle it imports.
 */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { createConnection } from "node:net";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Socket, type Channel } from "phoenix";
import { WebSocket } from "ws";
import { attach, defineChannel, defineSocket, ok, PubSub, silentLogger, type Endpoint } from "@cinder/server";
import { RedisAdapter } from "@cinder/redis";
import { createDashboard, type Dashboard, type NodeSnapshot } from "../src/index.js";

const REDIS_URL = process.env.CINDER_TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

function reachable(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = createConnection({ host: hostname, port: Number(port) });
    const done = (up: boolean): void => { socket.destroy(); resolve(up); };
    socket.setTimeout(1000, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}

interface Node { server: Server; endpoint: Endpoint; pubsub: PubSub; dashboard: Dashboard; url: string }
const nodes: Node[] = [];
const sockets: Socket[] = [];
after(async () => {
  for (const socket of sockets) socket.disconnect();
  for (const node of nodes) {
    node.dashboard.close();
    await node.endpoint.close();
    await node.pubsub.close();
    node.server.closeAllConnections();
    await new Promise<void>((resolve) => node.server.close(() => resolve()));
  }
});

async function startNode(name: string, namespace: string, joinRate?: { perSecond: number; burst: number }): Promise<Node> {
  const pubsub = new PubSub({ adapter: new RedisAdapter({ url: REDIS_URL, nodeName: name, namespace, logger: silentLogger }) });
  await pubsub.start();
  const dashboard = createDashboard<{ operator: boolean }>({ authorize: (s) => s.assigns.operator, intervalMs: 100 });
  const socket = defineSocket<{ operator: boolean; user: string }>({
    connect: (params) => ({ operator: params.operator === "yes", user: String(params.user) }),
    id: (s) => `user:${s.assigns.user}`,
    channels: { [dashboard.topic]: dashboard.channel, "room:*": defineChannel({ join: () => ok() }) },
  });
  const server = createServer();
  const endpoint = attach(server, { socket, pubsub, logger: silentLogger, ...(joinRate !== undefined ? { joinRate } : {}) });
  dashboard.observe(endpoint);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const node = { server, endpoint, pubsub, dashboard, url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}/socket` };
  nodes.push(node);
  return node;
}

function connect(url: string, params: Record<string, string>): Socket {
  const socket = new Socket(url, { transport: WebSocket, params, reconnectAfterMs: () => 60_000 });
  sockets.push(socket);
  socket.connect();
  return socket;
}

function join(channel: Channel): Promise<{ status: string; response: unknown }> {
  return new Promise((resolve) => {
    channel.join()
      .receive("ok", (response: unknown) => resolve({ status: "ok", response }))
      .receive("error", (response: unknown) => { channel.leave(); resolve({ status: "error", response }); });
  });
}

function push(channel: Channel, event: string, payload: object): Promise<{ status: string; response: unknown }> {
  return new Promise((resolve) => {
    channel.push(event, payload)
      .receive("ok", (response: unknown) => resolve({ status: "ok", response }))
      .receive("error", (response: unknown) => resolve({ status: "error", response }));
  });
}

async function until(check: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

test("snapshots from every node, operator-only join, disconnect_socket across nodes", { timeout: 30_000 }, async (t) => {
  if (!(await reachable(REDIS_URL))) {
    if (process.env.CINDER_REQUIRE_SERVICES === "1") throw new Error(`Redis at ${REDIS_URL} is required`);
    t.skip(`Redis at ${REDIS_URL} not available; skipped`);
    return;
  }
  const namespace = `cinder-dash-${randomBytes(4).toString("hex")}`;
  const a = await startNode("a", namespace);
  const b = await startNode("b", namespace, { perSecond: 0.001, burst: 2 });

  const nobody = connect(a.url, { user: "eve" });
  assert.deepEqual(await join(nobody.channel("cinder:dashboard")), { status: "error", response: { reason: "unauthorized" } });

  const operator = connect(a.url, { user: "op", operator: "yes" });
  const dash = operator.channel("cinder:dashboard");
  const latest = new Map<string, NodeSnapshot>();
  dash.on("snapshot", (s: NodeSnapshot) => latest.set(s.node, s));
  assert.equal((await join(dash)).status, "ok");

  const victim = connect(b.url, { user: "victim" });
  assert.equal((await join(victim.channel("room:1"))).status, "ok");
  assert.equal((await join(victim.channel("room:2"))).status, "ok");
  assert.equal((await join(victim.channel("room:3"))).status, "error", "node b's join rate (burst 2) refuses the third join");
  await until(() => latest.get("b")?.connections.websocket === 1 && latest.get("b")?.channels["room:*"] === 2, "node b's snapshot counting the victim");
  await until(() => latest.get("b")?.rateLimited.join === 1, "node b's snapshot counting the rate-limited join");
  await until(() => latest.get("a")?.connections.websocket === 2, "node a's snapshot (eve and the operator)");
  assert.deepEqual(latest.get("b")?.biggestTopics, [{ name: "room:1", count: 1 }, { name: "room:2", count: 1 }]);
  assert.equal(latest.get("a")?.rateLimited.join, undefined, "node a counts only its own events");
  assert.equal(latest.get("a")?.channels["cinder:dashboard"], 1);
  assert.ok((latest.get("a")?.messagesOut ?? 0) > 0, "node a counts the frames it sent");

  assert.deepEqual(await push(dash, "disconnect_socket", { id: 42 }), { status: "error", response: { reason: "id must be a non-empty string" } });
  assert.deepEqual(await push(dash, "disconnect_socket", { id: "user:victim" }), { status: "ok", response: { id: "user:victim" } });
  await until(() => !victim.isConnected(), "the victim on node b disconnected");
  await until(() => latest.get("b")?.connections.websocket === 0 && latest.get("b")?.channels["room:*"] === undefined, "node b's count dropping");
});

test("page renders the config safely; serveClient answers the @cinder/client browser bundle", async () => {
  const dashboard = createDashboard({ authorize: () => false });
  try {
    const html = dashboard.page({ socketUrl: "/socket", params: { token: "</script><b>" }, clientUrl: "/client.js", nonce: "n0nce" });
    assert.ok(html.includes('<script type="module" nonce="n0nce">'));
    assert.ok(!html.includes("</script><b>"), "params cannot close the script element");
    assert.ok(html.includes('"topic":"cinder:dashboard"'));
    const server = createServer((_request, response) => dashboard.serveClient(response));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const response = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/client.js`);
      assert.equal(response.status, 200);
      assert.match(response.headers.get("content-type") ?? "", /^text\/javascript/);
      const code = await response.text();
      assert.ok(code.includes("phx_join") && /export\s*\{/.test(code), "the ESM client bundle");
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  } finally {
    dashboard.close();
  }
  assert.throws(() => createDashboard({ authorize: () => true, topic: "room:*" }), /exact/);
  assert.throws(() => createDashboard({ authorize: () => true, intervalMs: 0 }), /intervalMs/);
});
