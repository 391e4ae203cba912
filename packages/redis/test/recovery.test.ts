/**
 * Recovery across a real cluster: conformance-server processes joined by Redis with the shared
 * Redis history store, and the official phoenix client keeping the last position it saw. A
 * client cut off for a while recovers every broadcast it missed — on the same node and on
 * another one, after its node's SIGKILL too — in order and once; after a Redis restart that lost
 * the stream, it is told `recovered: false` with a new epoch, never a silent gap.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { Follower } from "./support/follower.js";
import { publishNumbers as publish, startNode, subscribed, until, type Node } from "./support/cluster.js";
import { freePort, missing, reachable, redisServerBinary, startRedis, REDIS_URL } from "./support/services.js";

const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

test("a client cut off while 200 broadcasts flow recovers all 200 in order, once — on the same node and on another", { timeout: 90_000 }, async (t) => {
  if (!(await reachable(REDIS_URL))) { missing(t, `Redis at ${REDIS_URL}`); return; }
  const namespace = `cinder-recovery-${randomBytes(4).toString("hex")}`;
  const nodes = await Promise.all(["a", "b"].map((name) => startNode(name, REDIS_URL, namespace)));
  const [a, b] = nodes as [Node, Node];
  await subscribed(REDIS_URL, namespace, 2);
  try {
    const same = new Follower("stream:same");
    const moved = new Follower("stream:moved");
    same.connectTo(a);
    moved.connectTo(a);
    await until(() => same.joined && moved.joined, 8000, "first joins");
    await publish(b, "stream:same", 1, 5);
    await publish(b, "stream:moved", 1, 5);
    await until(() => same.received.length === 5 && moved.received.length === 5, 8000, "live broadcasts from the other node");
    same.cut();
    moved.cut();
    await new Promise((resolve) => setTimeout(resolve, 200));
    await Promise.all([publish(b, "stream:same", 6, 205), publish(a, "stream:moved", 6, 205)]);
    same.connectTo(a);
    moved.connectTo(b);
    await until(() => same.received.length >= 205 && moved.received.length >= 205, 15_000, "recovery");
    await publish(a, "stream:same", 206, 210);
    await publish(a, "stream:moved", 206, 210);
    await until(() => same.received.length >= 210 && moved.received.length >= 210, 8000, "live after recovery");
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.deepEqual(same.received, range(1, 210), "same node: all, in order, once");
    assert.deepEqual(moved.received, range(1, 210), "other node: all, in order, once");
    assert.equal(same.replies[1]?.recovered, true);
    assert.equal(moved.replies[1]?.recovered, true);
    same.cut();
    moved.cut();
  } finally {
    await Promise.all(nodes.map((node) => node.stop("SIGKILL")));
  }
});

test("after its node's SIGKILL a client reconnects to another node and recovers what was sent meanwhile", { timeout: 90_000 }, async (t) => {
  if (!(await reachable(REDIS_URL))) { missing(t, `Redis at ${REDIS_URL}`); return; }
  const namespace = `cinder-recovery-${randomBytes(4).toString("hex")}`;
  const nodes = await Promise.all(["k1", "k2"].map((name) => startNode(name, REDIS_URL, namespace)));
  const [k1, k2] = nodes as [Node, Node];
  await subscribed(REDIS_URL, namespace, 2);
  try {
    const follower = new Follower("stream:kill");
    follower.connectTo(k1);
    await until(() => follower.joined, 8000, "join");
    await publish(k2, "stream:kill", 1, 20);
    await until(() => follower.received.length === 20, 8000, "live");
    await k1.stop("SIGKILL");
    await publish(k2, "stream:kill", 21, 120);
    follower.connectTo(k2);
    await until(() => follower.received.length >= 120, 15_000, "recovery on the surviving node");
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.deepEqual(follower.received, range(1, 120));
    assert.equal(follower.replies.at(-1)?.recovered, true);
    follower.cut();
  } finally {
    await Promise.all(nodes.map((node) => node.stop("SIGKILL")));
  }
});

test("a Redis restart that lost the stream: a new epoch, and clients coming back are told recovered: false", { timeout: 90_000 }, async (t) => {
  const binary = redisServerBinary();
  if (binary === undefined) { missing(t, "redis-server"); return; }
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  let redis = await startRedis(binary, port);
  const namespace = `cinder-recovery-${randomBytes(4).toString("hex")}`;
  const nodes = await Promise.all(["r1", "r2"].map((name) => startNode(name, url, namespace)));
  const [r1, r2] = nodes as [Node, Node];
  await subscribed(url, namespace, 2);
  try {
    const away = new Follower("stream:restart");
    const stays = new Follower("stream:restart");
    away.connectTo(r1);
    stays.connectTo(r2);
    await until(() => away.joined && stays.joined, 8000, "joins");
    await publish(r1, "stream:restart", 1, 10);
    await until(() => away.received.length === 10 && stays.received.length === 10, 8000, "live");
    const before = away.position as string;
    away.cut();
    redis.kill("SIGKILL");
    await new Promise((resolve) => redis.once("exit", resolve));
    redis = await startRedis(binary, port);
    // Publish until the nodes are back on Redis: a publication that cannot be recorded is delivered nowhere.
    let n = 10;
    await until(() => {
      void publish(r1, "stream:restart", ++n, n).catch(() => {});
      return stays.received.length > 10;
    }, 20_000, "publications recorded again");
    const after = stays.refs.at(-1)!;
    assert.notEqual(after.split(":")[0], before.split(":")[0], "the stream came back with a new epoch");
    away.connectTo(r2);
    await until(() => away.replies.length === 2, 8000, "rejoin");
    assert.equal(away.replies[1]!.recovered, false, "the gap is told, not hidden");
    assert.equal(away.replies[1]!.position!.split(":")[0], after.split(":")[0], "with the new epoch's position");
    away.cut();
    stays.cut();
  } finally {
    await Promise.all(nodes.map((node) => node.stop("SIGKILL")));
    redis.kill("SIGKILL");
  }
});
