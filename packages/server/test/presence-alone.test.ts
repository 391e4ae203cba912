/**
 * A single node's presence tracker sleeps while idle: on a pubsub that is `alone` (the default
 * `LocalAdapter`) nobody can hear its gossip, so once its delta is drained it stops heartbeating
 * until the next local change, which it drains within a period as before. On a cluster adapter it
 * keeps sending keep-alives while idle, as the other nodes rely on them.
 * The gossip is watched by a subscriber of the tracker's own topic on the same pubsub.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createPresence, PubSub, silentLogger, type BroadcastMessage } from "../src/index.js";
import { Bus } from "./support/bus.js";
import { sleep } from "./support/raw-client.js";

const timing = { broadcastPeriodMs: 20, downPeriodMs: 200, permdownPeriodMs: 2_000, maxSilentPeriods: 2, diffWindowMs: 0 };

interface Heartbeat { delta: unknown }

/** A presence on `pubsub` and the heartbeats it gossips (what another node would hear). */
function watched(pubsub: PubSub) {
  const heartbeats: Heartbeat[] = [];
  pubsub.subscribe("phx_presence:presence", {
    deliver(message: BroadcastMessage) {
      if (message.event === "heartbeat") heartbeats.push(message.payload as Heartbeat);
    },
  });
  const presence = createPresence({ pubsub, logger: silentLogger, ...timing });
  return { presence, heartbeats };
}

test("alone (LocalAdapter): no heartbeat while idle; a change goes out in one heartbeat, then the tracker sleeps again", async () => {
  const pubsub = new PubSub();
  assert.equal(pubsub.alone, true);
  const { presence, heartbeats } = watched(pubsub);
  try {
    await sleep(300); // 15 periods: a cluster node would have sent ~5 keep-alives by now
    assert.equal(heartbeats.length, 0, "no keep-alive from an idle single node");

    presence.track({ ownerId: "o1", topic: "room" }, "alice", {});
    await sleep(100);
    assert.equal(heartbeats.length, 1, "the track woke the tracker: one heartbeat");
    assert.notEqual(heartbeats[0]!.delta, null, "and it carries the delta");
    await sleep(300);
    assert.equal(heartbeats.length, 1, "asleep again once the delta is drained");

    presence.untrack({ ownerId: "o1", topic: "room" }, "alice");
    presence.track({ ownerId: "o2", topic: "room" }, "bob", {});
    await sleep(100);
    assert.equal(heartbeats.length, 2, "the next changes woke it once more");
    assert.notEqual(heartbeats[1]!.delta, null);
    assert.deepEqual(Object.keys(await presence.list("room")), ["bob"], "presence itself is unchanged");
  } finally {
    await presence.close();
  }
});

test("on a cluster adapter the tracker keeps its keep-alives while idle", async () => {
  const bus = new Bus();
  const pubsub = new PubSub({ adapter: bus.adapter("a") });
  await pubsub.start();
  assert.equal(pubsub.alone, false);
  const { presence, heartbeats } = watched(pubsub);
  try {
    await sleep(300);
    assert.ok(heartbeats.length >= 2, `keep-alives while idle (got ${heartbeats.length} in 300 ms)`);
    assert.ok(heartbeats.every((h) => h.delta === null), "empty ones: nothing changed");
  } finally {
    await presence.close();
  }
});
