/** PubSub and topic routing, without any network. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { LocalAdapter, PubSub, type BroadcastMessage, type PubSubAdapter, type RemoteBroadcast, type Subscriber } from "../src/index.js";
import { ChannelRouter } from "../src/channel/index.js";
import { defineChannel, ok } from "../src/index.js";

function recorder(): Subscriber & { got: Array<[string, unknown]> } {
  const got: Array<[string, unknown]> = [];
  return { got, deliver: (m: BroadcastMessage) => { got.push([m.event, m.payload]); } };
}

class RecordingAdapter implements PubSubAdapter {
  readonly nodeName = "a";
  sent: Array<[string | null, RemoteBroadcast]> = [];
  onRemote: ((message: RemoteBroadcast) => void) | undefined;
  start(onRemote: (message: RemoteBroadcast) => void): void { this.onRemote = onRemote; }
  broadcast(message: RemoteBroadcast): void { this.sent.push([null, message]); }
  directBroadcast(node: string, message: RemoteBroadcast): void { this.sent.push([node, message]); }
  close(): void {}
}

test("broadcast reaches every subscriber; broadcastFrom skips the sender; unsubscribe stops delivery", () => {
  const pubsub = new PubSub({ adapter: new LocalAdapter("n1") });
  const [a, b, c] = [recorder(), recorder(), recorder()];
  pubsub.subscribe("t", a);
  pubsub.subscribe("t", b);
  pubsub.subscribe("other", c);
  pubsub.broadcast("t", "e1", 1);
  pubsub.broadcastFrom(a, "t", "e2", 2);
  pubsub.unsubscribe("t", b);
  pubsub.broadcast("t", "e3", 3);
  assert.deepEqual(a.got, [["e1", 1], ["e3", 3]]);
  assert.deepEqual(b.got, [["e1", 1], ["e2", 2]]);
  assert.deepEqual(c.got, []);
  assert.equal(pubsub.subscriberCount("t"), 1);
});

test("remote delivery: broadcasts go to the adapter once; local variants do not; direct targets one node", async () => {
  const adapter = new RecordingAdapter();
  const pubsub = new PubSub({ adapter });
  await pubsub.start();
  const sub = recorder();
  pubsub.subscribe("t", sub);
  pubsub.broadcast("t", "e", 1);
  pubsub.localBroadcast("t", "local", 2);
  pubsub.directBroadcast("b", "t", "direct", 3);
  pubsub.directBroadcast("a", "t", "self", 4);
  adapter.onRemote!({ topic: "t", event: "remote", payload: 5 });
  assert.deepEqual(adapter.sent.map(([node, m]) => [node, m.event]), [[null, "e"], ["b", "direct"]]);
  assert.deepEqual(sub.got.map(([e]) => e), ["e", "local", "self", "remote"]);
});

test("a subscriber that throws does not stop the others", () => {
  const errors: unknown[] = [];
  const pubsub = new PubSub({ onSubscriberError: (e) => errors.push(e) });
  const good = recorder();
  pubsub.subscribe("t", { deliver() { throw new Error("bad"); } });
  pubsub.subscribe("t", good);
  pubsub.broadcast("t", "e", 1);
  assert.equal(errors.length, 1);
  assert.deepEqual(good.got, [["e", 1]]);
});

test("router: exact topics win, then prefixes in order; * only at the end", () => {
  const [a, b, c] = [defineChannel({ join: () => ok() }), defineChannel({ join: () => ok() }), defineChannel({ join: () => ok() })];
  const router = new ChannelRouter({ "room:lobby": a, "room:*": b, "r*": c });
  assert.equal(router.match("room:lobby"), a);
  assert.equal(router.match("room:1"), b);
  assert.equal(router.match("rx"), c);
  assert.equal(router.match("x"), undefined);
  assert.equal(router.patternOf("room:9"), "room:*");
  assert.throws(() => new ChannelRouter({ "a*b": a }), /only allowed at the end/);
});
