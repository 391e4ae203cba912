/**
 * Gap detection while connected, for real: Redis pub/sub is at-most-once, so when a node's
 * subscriber connection drops, the publications of that moment never reach its clients, though
 * the shared history has them. `@cinder/client` with `useStream({ detectGaps: true })` sees the
 * next position jump, rejoins from the last one it saw and gets the missing ones replayed, in
 * order, before the later ones. Conformance-server processes on a throwaway redis-server.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { WebSocket } from "ws";
import { Socket } from "@cinder/client";
import { publishNumbers, startNode, subscribed, until, type Node } from "./support/cluster.js";
import { freePort, missing, redisServerBinary, startRedis } from "./support/services.js";

test("publications a node missed while its Redis subscription was down are recovered by detectGaps, in order, once", { timeout: 90_000 }, async (t) => {
  const binary = redisServerBinary();
  if (binary === undefined) { missing(t, "redis-server"); return; }
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  const redis = await startRedis(binary, port);
  const admin = new Redis(url);
  const namespace = `cinder-gaps-${randomBytes(4).toString("hex")}`;
  const nodes = await Promise.all(["g1", "g2"].map((name) => startNode(name, url, namespace))).catch((error: unknown) => {
    admin.disconnect();
    redis.kill("SIGKILL"); // a node that does not start must not leave the throwaway Redis running
    throw error;
  });
  const [g1, g2] = nodes as [Node, Node];
  const socket = new Socket(`ws://127.0.0.1:${g1.port}/socket`, { transport: WebSocket, rejoinAfterMs: () => 50, reconnectAfterMs: () => 50 });
  try {
    await subscribed(url, namespace, 2);
    const channel = socket.channel("stream:gaps", {}).useStream({ detectGaps: true });
    const received: number[] = [];
    channel.on("n", (payload) => received.push((payload as { n: number }).n));
    socket.connect();
    await channel.joined();
    const firstJoin = channel.joinRef();
    let n = 0;
    for (; n < 30; ) await publishNumbers(g2, "stream:gaps", ++n);
    await until(() => received.length === 30, 8000, "live");
    // Drop every subscriber connection on this Redis: g1 (and g2) miss what is published until they resubscribe.
    await admin.client("KILL", "TYPE", "pubsub");
    for (; n < 60; ) await publishNumbers(g2, "stream:gaps", ++n);
    // Once the nodes are subscribed again, the next publication shows g1's client the jump.
    await subscribed(url, namespace, 2);
    for (; n < 65; ) await publishNumbers(g2, "stream:gaps", ++n);
    await until(() => received.length >= 65, 20_000, "all 65");
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.deepEqual(received, Array.from({ length: 65 }, (_, i) => i + 1), "every publication, in order, once");
    assert.notEqual(channel.joinRef(), firstJoin, "a jump was seen and recovered by a rejoin");
    assert.equal(channel.recovered, true);
  } finally {
    socket.disconnect();
    admin.disconnect();
    await Promise.all(nodes.map((node) => node.stop("SIGKILL")));
    redis.kill("SIGKILL");
  }
});
