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
import { freePort, missing, reachable, redisServerBinary, startRedis, REDIS_URL } from "./support/services.js";

test("three nodes: broadcasts, broadcastFrom, disconnect and presence cross nodes; a killed node's members leave", { timeout: 60_000 }, async (t) => {
  if (!(await reachable(REDIS_URL))) { missing(t, `Redis at ${REDIS_URL}`); return; }
  const namespace = `cinder-cluster-${randomBytes(4).toString("hex")}`;
  const nodes: Node[] = await Promise.all(["n1", "n2", "n3"].map((name) => startNode(name, REDIS_URL, namespace)));
  const clients: Client[] = [];
  try {
    const [n1, n2, n3] = nodes as [Node, Node, Node];
    const alice = connect(n1, "alice", "lobby");
    const bob = connect(n2, "bob", "lobby");
    const carol = connect(n3, "carol", "lobby");
    clients.push(alice, bob, carol);
    for (const client of clients) await until(() => client.keys().join() === "alice,bob,carol", 8000, "every member listed on every node");

    alice.echo.push("broadcast", { from: "alice" });
    for (const client of clients) await until(() => client.events.some(([e, p]) => e === "broadcasted" && (p as { from: string }).from === "alice"), 3000, "a cross-node broadcast");

    bob.echo.push("broadcast_from", { from: "bob" });
    await until(() => alice.events.some(([, p]) => (p as { from: string }).from === "bob") && carol.events.some(([, p]) => (p as { from: string }).from === "bob"), 3000, "broadcastFrom on the other nodes");
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.ok(!bob.events.some(([, p]) => (p as { from: string }).from === "bob"), "the sender does not get its own broadcastFrom");

    const response = await fetch(`http://127.0.0.1:${n2.port}/broadcast`, {
      method: "POST", body: JSON.stringify({ topic: "echo:lobby", event: "broadcasted", payload: { from: "endpoint" } }),
    });
    assert.equal(response.status, 204);
    for (const client of clients) await until(() => client.events.some(([, p]) => (p as { from: string }).from === "endpoint"), 3000, "an endpoint broadcast on every node");

    const aliceElsewhere = connect(n3, "alice", "other");
    clients.push(aliceElsewhere);
    await until(() => aliceElsewhere.socket.isConnected(), 3000, "alice's second socket");
    await call(alice.echo, "disconnect_me", {});
    await until(() => alice.closeCodes.includes(1001) && aliceElsewhere.closeCodes.includes(1001), 3000, "both of alice's sockets closed with 1001");
    assert.ok(!bob.closeCodes.includes(1001) && !carol.closeCodes.includes(1001));

    await until(() => bob.keys().join() === "alice,bob,carol", 5000, "alice back after reconnecting");
    carol.socket.disconnect();
    await until(() => bob.keys().join() === "alice,bob", 3000, "carol's clean leave");
    const dave = connect(n3, "dave", "lobby");
    clients.push(dave);
    await until(() => alice.keys().includes("dave") && bob.keys().includes("dave"), 5000, "dave on n3 visible everywhere");
    const killedAt = Date.now();
    await n3.stop("SIGKILL");
    const left = await until(() => !alice.keys().includes("dave") && !bob.keys().includes("dave"), 8000, "n3's members to leave after the down period");
    assert.ok(Date.now() - killedAt >= 900, `not before the down period (${left} ms)`);
  } finally {
    for (const client of clients) client.socket.disconnect();
    await Promise.all(nodes.map((node) => node.stop("SIGKILL")));
  }
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
