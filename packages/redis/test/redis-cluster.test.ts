/**
 * Cinder on a Redis Cluster: the file starts a throwaway 3-master Redis Cluster (redis-server
 * with `--cluster-enabled yes` on spare ports, `redis-cli --cluster create`), runs the cluster
 * suite on it with sharded pub/sub (SSUBSCRIBE / SPUBLISH), then a master restart with stream
 * topics and presence on it, and stops it.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { PubSub, silentLogger, type BroadcastMessage } from "@cinder/server";
import { RedisAdapter, hashSlot } from "../src/index.js";
import { call, connect, publishNumbers, startNode, subscribed, until, type Client, type Node } from "./support/cluster.js";
import { Follower } from "./support/follower.js";
import { threeNodes } from "./support/suite.js";
import { missing, redisServerBinary, startRedisCluster, type RedisClusterHandle } from "./support/services.js";

let cluster: RedisClusterHandle | undefined;
let failure: unknown;

before(async () => {
  const binary = redisServerBinary();
  if (binary === undefined) return;
  try {
    cluster = await startRedisCluster(binary, 3);
  } catch (error) {
    failure = error;
  }
});

after(async () => {
  await cluster?.stop();
});

/** The running cluster, or undefined after skipping (or failing, when services are required). */
function running(t: Parameters<typeof missing>[0]): RedisClusterHandle | undefined {
  if (failure !== undefined) throw failure;
  if (cluster === undefined) missing(t, "redis-server (for a local Redis Cluster)");
  return cluster;
}

function env(handle: RedisClusterHandle): Record<string, string> {
  return { CINDER_REDIS_CLUSTER: handle.urls.join(",") };
}

test("hash slots match Redis's CLUSTER KEYSLOT; a topic's shard channel shares its history keys' slot", async (t) => {
  const handle = running(t);
  if (handle === undefined) return;
  const redis = new Redis(handle.urls[0]!);
  try {
    const names = ["room:lobby", "{tag}x", "a{b}c", "a{}b", "{}", "é{ü}", "x{y", "}{z}", "phx_presence:presence", ""];
    for (let i = 0; i < 40; i++) names.push(randomBytes(1 + (i % 9)).toString("base64"));
    for (const name of names) assert.equal(hashSlot(name), await redis.cluster("KEYSLOT", name), name);
    const adapter = new RedisAdapter({ cluster: handle.urls, namespace: "ns", logger: silentLogger });
    for (const topic of ["room:1", "stream:x", "users_socket:42"]) {
      assert.equal(hashSlot(adapter.channelOf(topic)), hashSlot(`ns:stream:{${topic}}:meta`), topic);
    }
    await adapter.close();
  } finally {
    redis.disconnect();
  }
});

test("sharded routing: a topic's broadcasts reach only the node with its subscribers, one message each", async (t) => {
  const handle = running(t);
  if (handle === undefined) return;
  const namespace = `cinder-shard-${randomBytes(4).toString("hex")}`;
  const adapters = ["a", "b", "c"].map((name) => new RedisAdapter({ cluster: [handle.urls[0]!], nodeName: name, namespace, logger: silentLogger }));
  const nodes = adapters.map((adapter) => new PubSub({ adapter }));
  try {
    await Promise.all(nodes.map((node) => node.start()));
    const got: BroadcastMessage[] = [];
    const topics = Array.from({ length: 30 }, (_, i) => `room:${i}`);
    await Promise.all(topics.map((topic) => nodes[1]!.subscribe(topic, { deliver: (m) => { got.push(m); } })));
    for (const topic of topics) nodes[0]!.broadcast(topic, "e", { topic });
    await until(() => got.length === 30, 5000, "30 broadcasts on 30 shard channels");
    nodes[2]!.directBroadcast("b", "room:0", "direct", {});
    await until(() => got.length === 31, 5000, "a direct message on b's shard channel");
    assert.deepEqual(adapters.map((adapter) => adapter.stats().received), [0, 31, 0]);
  } finally {
    await Promise.all(nodes.map((node) => node.close()));
  }
});

test("three nodes on a Redis Cluster: broadcasts, broadcastFrom, disconnect and presence cross nodes; a killed node's members leave", { timeout: 60_000 }, async (t) => {
  const handle = running(t);
  if (handle === undefined) return;
  await threeNodes({ url: handle.urls[0]!, env: env(handle) });
});

test("a master restarts: nodes keep serving, then broadcasts and presence cross again; its streams say recovered: false", { timeout: 90_000 }, async (t) => {
  const handle = running(t);
  if (handle === undefined) return;
  const namespace = `cinder-master-${randomBytes(4).toString("hex")}`;
  const adapter = new RedisAdapter({ cluster: handle.urls, namespace, logger: silentLogger });
  // The master to restart serves the echo topic's channel; pick a stream topic it stores too.
  const victim = await handle.masterOf(adapter.channelOf("echo:room"));
  let stream = "";
  for (let i = 0; stream === ""; i++) if (await handle.masterOf(adapter.channelOf(`stream:m${i}`)) === victim) stream = `stream:m${i}`;
  await adapter.close();
  const nodes = await Promise.all(["m1", "m2"].map((name) => startNode(name, handle.urls[0]!, namespace, env(handle))));
  const clients: Client[] = [];
  const follower = new Follower(stream);
  try {
    const [m1, m2] = nodes as [Node, Node];
    await subscribed(handle.urls, namespace, 2);
    const ann = connect(m1, "ann", "room");
    const ben = connect(m2, "ben", "room");
    clients.push(ann, ben);
    for (const client of clients) await until(() => client.keys().join() === "ann,ben", 8000, "both members on both nodes");
    follower.connectTo(m1);
    await until(() => follower.joined, 8000, "the follower's join");
    await publishNumbers(m2, stream, 1, 5);
    await until(() => follower.received.length === 5, 5000, "stream publications through the cluster's history");
    follower.cut();
    await publishNumbers(m1, stream, 6, 25);
    follower.connectTo(m2);
    await until(() => follower.received.length === 25, 8000, "recovery on the other node");
    assert.deepEqual(follower.received, Array.from({ length: 25 }, (_, i) => i + 1));
    assert.equal(follower.replies[1]?.recovered, true);
    follower.cut();

    await handle.kill(victim);
    assert.equal(await call(ann.echo, "ping", { during: "outage" }), "ok", "m1 still serves its own sockets");
    await new Promise((resolve) => setTimeout(resolve, 1000));
    assert.ok(m1.process.exitCode === null && m2.process.exitCode === null, "no node crashed");

    await handle.restart(victim);
    let n = 0;
    await until(() => {
      ann.echo.push("broadcast", { from: "after", n: ++n });
      return ben.events.some(([, p]) => (p as { from: string }).from === "after");
    }, 20_000, "cross-node broadcasts on the restarted master's shard");
    await until(() => ann.keys().join() === "ann,ben" && ben.keys().join() === "ann,ben", 10_000, "presence to converge");
    // The restarted master kept no data: the stream starts a new epoch, and the follower is told.
    await publishNumbers(m2, stream, 26, 30);
    follower.connectTo(m1);
    await until(() => follower.replies.length === 3, 8000, "the rejoin's reply");
    assert.equal(follower.replies[2]?.recovered, false, "a stream the restart lost is never a silent gap");
  } finally {
    follower.cut();
    for (const client of clients) client.socket.disconnect();
    await Promise.all(nodes.map((node) => node.stop("SIGKILL")));
  }
});
