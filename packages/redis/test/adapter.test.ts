/**
 * The Redis adapter against a real Redis: broadcasts cross nodes once per node, a node never
 * hears its own echo, direct broadcasts reach one node, binary payloads survive, and the codec
 * refuses malformed envelopes.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { PubSub, silentLogger, type BroadcastMessage } from "@cinder/server";
import { RedisAdapter, decodeEnvelope, encodeEnvelope } from "../src/index.js";
import { missing, reachable, REDIS_URL } from "./support/services.js";

function collector(): { got: BroadcastMessage[]; deliver(m: BroadcastMessage): void } {
  const got: BroadcastMessage[] = [];
  return { got, deliver: (m) => { got.push(m); } };
}

async function until(check: () => boolean | Promise<boolean>, timeoutMs = 2000): Promise<true> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return true;
}

test("codec: versioned envelopes round-trip JSON and binary payloads; malformed ones are refused", () => {
  const json = decodeEnvelope(encodeEnvelope("n1", { topic: "t", event: "e", payload: { a: [1, "x"] } }));
  assert.deepEqual(json, { origin: "n1", message: { topic: "t", event: "e", payload: { a: [1, "x"] } } });
  const binary = decodeEnvelope(encodeEnvelope("n1", { topic: "t", event: "e", payload: new Uint8Array([1, 2, 255]) }));
  assert.deepEqual([...(binary.message.payload as Uint8Array)], [1, 2, 255]);
  for (const bad of ["{}", "[2,\"n\",\"t\",\"e\",0,{}]", "[1,1,\"t\",\"e\",0,{}]", "[1,\"n\",\"t\",\"e\",7,{}]", "[1,\"n\",\"t\",\"e\",1,5]", "nope"]) {
    assert.throws(() => decodeEnvelope(bad), bad);
  }
});

for (const routing of ["all", "topic"] as const) {
  test(`${routing} routing: broadcasts cross nodes with one Redis message each; no echo; direct reaches one node; binary survives`, async (t) => {
    if (!(await reachable(REDIS_URL))) { missing(t, `Redis at ${REDIS_URL}`); return; }
    const namespace = `cinder-test-${randomBytes(4).toString("hex")}`;
    const nodes = ["a", "b", "c"].map((name) => new PubSub({ adapter: new RedisAdapter({ url: REDIS_URL, nodeName: name, namespace, routing, logger: silentLogger }) }));
    const spy = new Redis(REDIS_URL);
    const published: string[] = [];
    try {
      await spy.psubscribe(`${namespace}:*`);
      spy.on("pmessage", (_pattern: string, channel: string) => published.push(channel));
      await Promise.all(nodes.map((n) => n.start()));
      const [a, b, c] = nodes as [PubSub, PubSub, PubSub];
      const onA = collector();
      const onB = Array.from({ length: 50 }, () => collector());
      const onC = collector();
      await Promise.all([a.subscribe("room", onA), ...onB.map((sub) => b.subscribe("room", sub)), c.subscribe("room", onC)]);
      a.broadcast("room", "hello", { n: 1 });
      await until(() => onB.every((s) => s.got.length === 1) && onC.got.length === 1);
      assert.equal(onA.got.length, 1, "the sender's node delivers locally once, not again from Redis");
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.equal(onA.got.length, 1, "no echo from Redis");
      const channel = routing === "all" ? `${namespace}:all` : `${namespace}:t:{room}`;
      assert.deepEqual(published, [channel], "one Redis message for 51 remote subscribers on two nodes");

      c.directBroadcast("b", "room", "direct", { to: "b" });
      await until(() => onB[0]!.got.length === 2);
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.equal(onA.got.length, 1);
      assert.equal(onC.got.length, 1);
      assert.equal(onB[0]!.got[1]!.event, "direct");

      b.broadcast("room", "bytes", new Uint8Array([9, 8, 7]));
      await until(() => onA.got.length === 2 && onC.got.length === 2);
      assert.deepEqual([...(onA.got[1]!.payload as Uint8Array)], [9, 8, 7]);
    } finally {
      spy.disconnect();
      await Promise.all(nodes.map((n) => n.close()));
    }
  });
}

async function numsub(redis: Redis, channel: string): Promise<number> {
  const [, count] = await redis.pubsub("NUMSUB", channel) as [string, number];
  return count;
}

test("topic routing: only nodes with subscribers receive a topic's broadcasts; the channel lingers, then goes", async (t) => {
  if (!(await reachable(REDIS_URL))) { missing(t, `Redis at ${REDIS_URL}`); return; }
  const namespace = `cinder-route-${randomBytes(4).toString("hex")}`;
  const adapters = ["a", "b", "c", "d"].map((name) => new RedisAdapter({ url: REDIS_URL, nodeName: name, namespace, lingerMs: 300, logger: silentLogger }));
  const nodes = adapters.map((adapter) => new PubSub({ adapter }));
  const admin = new Redis(REDIS_URL);
  try {
    await Promise.all(nodes.map((n) => n.start()));
    const [a, b, , d] = nodes as [PubSub, PubSub, PubSub, PubSub];
    const onB = collector();
    const routed = b.subscribe("solo", onB);
    assert.ok(routed instanceof Promise, "the first local subscriber waits for Redis");
    await routed;
    const second = collector();
    assert.equal(b.subscribe("solo", second), undefined, "later subscribers of a routed topic do not wait");
    const before = adapters.map((x) => x.stats().received);
    for (let i = 0; i < 20; i++) a.broadcast("solo", "e", { i });
    await until(() => onB.got.length === 20);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const got = adapters.map((x, i) => x.stats().received - before[i]!);
    assert.deepEqual(got, [0, 20, 0, 0], "20 broadcasts: 20 Redis messages, all to the one node with subscribers");
    assert.equal(await numsub(admin, `${namespace}:t:{solo}`), 1);

    // The last subscriber leaves: the channel lingers; a subscriber back within the linger costs no SUBSCRIBE.
    const commands = adapters[1]!.stats().subscribeCommands;
    b.unsubscribe("solo", onB);
    b.unsubscribe("solo", second);
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(await numsub(admin, `${namespace}:t:{solo}`), 1, "still listening during the linger");
    const back = collector();
    assert.equal(b.subscribe("solo", back), undefined, "back within the linger: already routed");
    d.broadcast("solo", "e", { back: true });
    await until(() => back.got.length === 1);
    assert.equal(adapters[1]!.stats().subscribeCommands, commands, "no new SUBSCRIBE");
    b.unsubscribe("solo", back);
    await until(() => adapters[1]!.stats().channelsUnsubscribed === 1, 2000);
    assert.ok(await until(async () => await numsub(admin, `${namespace}:t:{solo}`) === 0), "unsubscribed after the linger");
    const received = adapters[1]!.stats().received;
    a.broadcast("solo", "e", { late: true });
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(adapters[1]!.stats().received, received, "a topic nobody subscribes to reaches no node");
  } finally {
    admin.disconnect();
    await Promise.all(nodes.map((n) => n.close()));
  }
});
