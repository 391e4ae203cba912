/**
 * The tracker's replica loop across several in-process nodes joined by an in-memory bus:
 * members tracked on one node are listed on the others within a few heartbeats; a graceful
 * stop removes them at once; a silent node is marked down after the down period and comes back
 * with the same members when it heartbeats again; a new node catches up by transfer; lost
 * messages are repaired.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createPresence, PubSub, silentLogger, type Presence } from "../src/index.js";
import { Bus } from "./support/bus.js";
import { sleep } from "./support/raw-client.js";

const timing = { broadcastPeriodMs: 40, downPeriodMs: 200, permdownPeriodMs: 2_000, maxSilentPeriods: 2, diffWindowMs: 0 };

async function node(bus: Bus, name: string): Promise<{ pubsub: PubSub; presence: Presence }> {
  const pubsub = new PubSub({ adapter: bus.adapter(name) });
  await pubsub.start();
  return { pubsub, presence: createPresence({ pubsub, logger: silentLogger, ...timing }) };
}

async function until(check: () => boolean, timeoutMs: number, what: string): Promise<number> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
  return Date.now() - start;
}

const keys = async (p: Presence, topic: string): Promise<string> => Object.keys(await p.list(topic)).sort().join(",");

test("members tracked on each node are listed on every node; a graceful stop removes them at once", async () => {
  const bus = new Bus();
  const [a, b, c] = await Promise.all([node(bus, "a"), node(bus, "b"), node(bus, "c")]);
  a.presence.track({ ownerId: "a.1", topic: "room" }, "alice", {});
  b.presence.track({ ownerId: "b.1", topic: "room" }, "bob", {});
  c.presence.track({ ownerId: "c.1", topic: "room" }, "carol", {});
  for (const n of [a, b, c]) {
    await until(() => n.presence.countUsers("room") === 3, 2000, "three members everywhere");
  }
  assert.equal(await keys(b.presence, "room"), "alice,bob,carol");
  await c.presence.close(true);
  await until(() => a.presence.countUsers("room") === 2 && b.presence.countUsers("room") === 2, 500, "carol to leave");
  await a.presence.close();
  await b.presence.close();
});

test("a silent node goes down after the down period and comes back with the same members", async () => {
  const bus = new Bus();
  const [a, b] = await Promise.all([node(bus, "a"), node(bus, "b")]);
  const diffs: string[] = [];
  b.pubsub.subscribe("room", { deliver: (m) => diffs.push(JSON.stringify(m.payload)) });
  a.presence.track({ ownerId: "a.1", topic: "room" }, "alice", {});
  await until(() => b.presence.countUsers("room") === 1, 1000, "alice on b");
  bus.filter = (from) => from !== "a";   // a partition: a's heartbeats stop reaching b
  const downAfter = await until(() => b.presence.countUsers("room") === 0, 2000, "a marked down on b");
  assert.ok(downAfter >= 120, `not before the down period (${downAfter} ms)`);
  await until(() => diffs.some((d) => d.includes('"leaves":{"alice"')), 500, "b to broadcast a leave for alice");
  bus.filter = () => true;               // healed: same vsn, so the members come back
  await until(() => b.presence.countUsers("room") === 1, 1000, "alice back on b");
  await a.presence.close();
  await b.presence.close();
});

test("a node that joins later catches up by transfer, and lost deltas are repaired", async () => {
  const bus = new Bus();
  const a = await node(bus, "a");
  for (let i = 0; i < 50; i++) a.presence.track({ ownerId: `a.${i}`, topic: "big" }, `user${i}`, { i });
  await sleep(100);
  const b = await node(bus, "b");
  await until(() => b.presence.countUsers("big") === 50, 2000, "b to receive the existing members");
  let dropped = 0;
  bus.filter = (from, _to, m) => !(from === "a" && m.event === "heartbeat" && (m.payload as { delta: unknown }).delta !== null && dropped++ < 3);
  for (let i = 50; i < 60; i++) a.presence.track({ ownerId: `a.${i}`, topic: "big" }, `user${i}`, { i });
  a.presence.untrack({ ownerId: "a.0", topic: "big" }, "user0");
  await until(() => dropped >= 1, 1000, "a delta to be lost");
  await until(() => b.presence.countUsers("big") === 59, 3000, "the lost changes to be repaired");
  assert.equal(await keys(b.presence, "big"), await keys(a.presence, "big"));
  await a.presence.close();
  await b.presence.close();
});

test("an idle replica is not taken for down when maxSilentPeriods × broadcastPeriodMs exceeds the down period", async () => {
  // Keep-alives every 11 periods (550 ms) would miss a 400 ms down period: they are capped to every half down period.
  const bus = new Bus();
  const make = async (name: string): Promise<Presence> => {
    const pubsub = new PubSub({ adapter: bus.adapter(name) });
    await pubsub.start();
    return createPresence({ pubsub, logger: silentLogger, broadcastPeriodMs: 50, downPeriodMs: 400, maxSilentPeriods: 10, diffWindowMs: 0 });
  };
  const [a, b] = await Promise.all([make("a"), make("b")]);
  a.track({ ownerId: "a.1", topic: "room" }, "alice", {});
  await until(() => b.countUsers("room") === 1, 1000, "alice on b");
  let dips = 0;
  for (let i = 0; i < 200; i++) {
    await sleep(10);
    if (b.countUsers("room") === 0) dips++;
  }
  assert.equal(dips, 0, "alice never left b's list while a was idle");
  await Promise.all([a.close(), b.close()]);
});
