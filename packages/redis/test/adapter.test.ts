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

async function until(check: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
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

test("broadcasts cross nodes with one Redis message each; no echo; direct reaches one node; binary survives", async (t) => {
  if (!(await reachable(REDIS_URL))) { missing(t, `Redis at ${REDIS_URL}`); return; }
  const namespace = `cinder-test-${randomBytes(4).toString("hex")}`;
  const nodes = ["a", "b", "c"].map((name) => new PubSub({ adapter: new RedisAdapter({ url: REDIS_URL, nodeName: name, namespace, logger: silentLogger }) }));
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
    a.subscribe("room", onA);
    for (const sub of onB) b.subscribe("room", sub);
    c.subscribe("room", onC);
    a.broadcast("room", "hello", { n: 1 });
    await until(() => onB.every((s) => s.got.length === 1) && onC.got.length === 1);
    assert.equal(onA.got.length, 1, "the sender's node delivers locally once, not again from Redis");
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(onA.got.length, 1, "no echo from Redis");
    assert.deepEqual(published, [`${namespace}:all`], "one Redis message for 51 remote subscribers on two nodes");

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
