/**
 * PubSub with a topic-aware adapter: the adapter hears of a topic's first local subscriber and
 * its last one leaving, subscribers wait for the route while it is being set up, and a join
 * replies only once the route is up, with no broadcast frame before its reply.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { PubSub, defineChannel, defineSocket, ok, type BroadcastMessage, type PubSubAdapter, type RemoteBroadcast } from "../src/index.js";
import { startServer } from "./support/server.js";
import { RawClient, sleep, type Received } from "./support/raw-client.js";

/** A topic-aware adapter whose routes open when the test says so. */
class GatedAdapter implements PubSubAdapter {
  readonly nodeName = "gated";
  readonly calls: string[] = [];
  private readonly gates = new Map<string, () => void>();
  start(_onRemote: (message: RemoteBroadcast) => void): void {}
  broadcast(): void {}
  directBroadcast(): void {}
  close(): void {}
  subscribeTopic(topic: string): Promise<void> {
    this.calls.push(`+${topic}`);
    return new Promise((resolve) => this.gates.set(topic, resolve));
  }
  unsubscribeTopic(topic: string): void {
    this.calls.push(`-${topic}`);
  }
  open(topic: string): void {
    this.gates.get(topic)?.();
  }
}

const sink = { deliver(_m: BroadcastMessage): void {} };

test("the adapter hears of a topic's first subscriber and its last leaving; subscribers wait for the route while it is set up", async () => {
  const adapter = new GatedAdapter();
  const pubsub = new PubSub({ adapter });
  const a = { deliver(_m: BroadcastMessage): void {} };
  const first = pubsub.subscribe("t", a);
  const second = pubsub.subscribe("t", sink);
  assert.ok(first instanceof Promise && second === first, "the second subscriber waits for the same route");
  assert.deepEqual(adapter.calls, ["+t"], "one call for the topic, not one per subscriber");
  let settled = false;
  void first.then(() => { settled = true; });
  await sleep(10);
  assert.equal(settled, false);
  adapter.open("t");
  await first;
  assert.equal(pubsub.subscribe("t", { deliver() {} }), undefined, "once routed, nobody waits");
  pubsub.unsubscribe("t", a);
  pubsub.unsubscribe("t", sink);
  assert.deepEqual(adapter.calls, ["+t"], "one subscriber is left: the topic stays routed");
  const pubsub2 = new PubSub({ adapter: new GatedAdapter() });
  pubsub2.subscribe("x", sink);
  pubsub2.unsubscribe("x", sink);
  assert.deepEqual((pubsub2.adapter as GatedAdapter).calls, ["+x", "-x"], "the last subscriber leaving is told");
});

test("a join replies once the topic's route is up; broadcasts meanwhile come after the reply, in order", async () => {
  const adapter = new GatedAdapter();
  const pubsub = new PubSub({ adapter });
  const Room = defineChannel({ join: () => ok({ joined: true }) });
  const server = await startServer({ pubsub, socket: defineSocket({ channels: { "room:*": Room } }) });
  const client = await RawClient.connect(`${server.websocketUrl}?vsn=2.0.0`);
  try {
    client.send(["1", "1", "room:a", "phx_join", {}]);
    await sleep(50);
    server.endpoint.broadcast("room:a", "early", { n: 1 });
    server.endpoint.broadcast("room:a", "early", { n: 2 });
    await sleep(30);
    assert.deepEqual(client.received, [], "no reply and no broadcast before the route is up");
    adapter.open("room:a");
    await client.next((frame) => frame[3] === "early" && (frame[4] as { n: number }).n === 2);
    const frames = (client.received as Received[]).map((r) => (r.binary ? [] : r.json as unknown[]));
    assert.deepEqual(frames.map((f) => f[3]), ["phx_reply", "early", "early"], "the reply first, then the broadcasts in order");
    assert.deepEqual(frames[0]![4], { status: "ok", response: { joined: true } });
  } finally {
    client.close();
    await server.close();
  }
});
