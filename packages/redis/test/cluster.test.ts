/**
 * A real cluster: three Cinder node processes joined by Redis, with the official `phoenix`
 * client connected to different nodes. Cross-node broadcast, broadcastFrom, endpoint
 * broadcasts, `"disconnect"` by socket id, presence everywhere, a SIGKILLed node whose members
 * leave after the down period, and recovery after Redis itself restarts.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { call, connect, startNode, until, type Client, type Node } from "./support/cluster.js";
import { threeNodes } from "./support/suite.js";
import { freePort, missing, reachable, redisServerBinary, startRedis, REDIS_URL } from "./support/services.js";

test("three nodes on a single Redis: broadcasts, broadcastFrom, disconnect and presence cross nodes; a killed node's members leave", { timeout: 60_000 }, async (t) => {
  if (!(await reachable(REDIS_URL))) { missing(t, `Redis at ${REDIS_URL}`); return; }
  await threeNodes({ url: REDIS_URL, env: {} });
});

test("Redis restarts: nodes keep serving their own sockets, then converge again", { timeout: 60_000 }, async (t) => {
  const binary = redisServerBinary();
  if (binary === undefined) { missing(t, "redis-server"); return; }
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  let redis = await startRedis(binary, port);
  const namespace = `cinder-restart-${randomBytes(4).toString("hex")}`;
  const nodes = await Promise.all(["r1", "r2"].map((name) => startNode(name, url, namespace)));
  const clients: Client[] = [];
  try {
    const [r1, r2] = nodes as [Node, Node];
    const ann = connect(r1, "ann", "room");
    const ben = connect(r2, "ben", "room");
    clients.push(ann, ben);
    for (const client of clients) await until(() => client.keys().join() === "ann,ben", 8000, "both members on both nodes");

    redis.kill("SIGKILL");
    await new Promise((resolve) => redis.once("exit", resolve));
    assert.equal(await call(ann.echo, "ping", { during: "outage" }), "ok", "r1 still serves its own sockets");
    const cat = connect(r1, "cat", "room");
    clients.push(cat);
    await until(() => ann.keys().includes("cat"), 3000, "a local join during the outage");
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.ok(r1.process.exitCode === null && r2.process.exitCode === null, "no node crashed");

    redis = await startRedis(binary, port);
    await until(() => ben.keys().join() === "ann,ben,cat", 15_000, "state to converge after Redis returned");
    await until(() => ann.keys().join() === "ann,ben,cat", 5000, "r1 to list ben again");
    ann.echo.push("broadcast", { from: "after" });
    await until(() => ben.events.some(([, p]) => (p as { from: string }).from === "after"), 5000, "cross-node broadcasts again");
  } finally {
    for (const client of clients) client.socket.disconnect();
    await Promise.all(nodes.map((node) => node.stop("SIGKILL")));
    redis.kill("SIGKILL");
  }
});

test("SIGTERM drains a node: clients get 1012, its members leave the other nodes at once, the process exits", { timeout: 60_000 }, async (t) => {
  if (!(await reachable(REDIS_URL))) { missing(t, `Redis at ${REDIS_URL}`); return; }
  const namespace = `cinder-drain-${randomBytes(4).toString("hex")}`;
  // A long down period, so a leave seen on the other node can only come from the graceful shutdown.
  const env = { CINDER_PRESENCE_DOWN_MS: "30000", CINDER_DRAIN_WINDOW_MS: "500" };
  const nodes = await Promise.all(["d1", "d2"].map((name) => startNode(name, REDIS_URL, namespace, env)));
  const clients: Client[] = [];
  try {
    const [d1, d2] = nodes as [Node, Node];
    const stayer = connect(d1, "stayer", "room");
    const leavers = ["l1", "l2", "l3"].map((user) => connect(d2, user, "room"));
    clients.push(stayer, ...leavers);
    await until(() => stayer.keys().join() === "l1,l2,l3,stayer", 8000, "everyone listed on d1");
    const exited = new Promise<number | null>((resolve) => d2.process.once("exit", (code) => resolve(code)));
    const signalled = Date.now();
    d2.process.kill("SIGTERM");
    await until(() => leavers.every((c) => c.closeCodes.includes(1012)), 5000, "every client of d2 told to reconnect with 1012");
    const left = await until(() => stayer.keys().join() === "stayer", 5000, "d2's members to leave d1 at once");
    assert.ok(Date.now() - signalled < 5000, `left after ${left} ms, far below the 30 s down period`);
    assert.equal(await exited, 0, "the process exits cleanly");
  } finally {
    for (const client of clients) client.socket.disconnect();
    await Promise.all(nodes.map((node) => node.stop("SIGKILL")));
  }
});
