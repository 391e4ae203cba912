/**
 * User-level online/offline on in-process nodes joined by an in-memory bus: the `onOnline` /
 * `onOffline` hooks and the `presence_online*` pushes of `subscribeOnline`. A key's first meta
 * makes one online on every node; a move to another node within the grace makes nothing; a
 * last leave makes one offline on every node after the grace; a node that starts later adopts
 * who was online before it without events (and still reports their offline), even when its
 * first transfer came before it heard of every node; a closing node
 * makes no more events; a hook that throws is logged. (Real processes over Redis:
 * packages/redis/test/online.test.ts.)
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createPresence, PubSub, silentLogger, type OnlineSubscriber, type Presence } from "../src/index.js";
import { Bus } from "./support/bus.js";
import { sleep } from "./support/raw-client.js";

const GRACE = 300;
const timing = { broadcastPeriodMs: 30, downPeriodMs: 150, permdownPeriodMs: 2_000, maxSilentPeriods: 2, diffWindowMs: 0, leaveGraceMs: GRACE };

interface TestNode {
  name: string;
  pubsub: PubSub;
  presence: Presence;
  /** Hook calls, as "online:<key>" / "offline:<key>". */
  hooks: string[];
}

async function node(bus: Bus, name: string): Promise<TestNode> {
  const pubsub = new PubSub({ adapter: bus.adapter(name) });
  await pubsub.start();
  const hooks: string[] = [];
  const presence = createPresence({
    pubsub, logger: silentLogger, ...timing,
    onOnline: (topic, key) => { hooks.push(`online:${topic}:${key}`); },
    onOffline: async (topic, key) => { hooks.push(`offline:${topic}:${key}`); },
  });
  return { name, pubsub, presence, hooks };
}

/** A channel as `subscribeOnline` sees it, recording its pushes. */
class Watcher implements OnlineSubscriber {
  readonly pushes: string[] = [];
  private readonly exits: Array<() => void> = [];
  constructor(readonly ownerId: string, readonly topic: string) {}
  push(event: string, payload: unknown): void {
    this.pushes.push(`${event} ${JSON.stringify(payload)}`);
  }
  onExit(callback: () => void): void {
    this.exits.push(callback);
  }
  exit(): void {
    for (const callback of this.exits.splice(0)) callback();
  }
}

async function until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

/** Nodes a and b on a new bus, alice tracked on a and bob on b, both listed on both nodes. */
async function aliceOnAAndBobOnB(): Promise<{ bus: Bus; a: TestNode; b: TestNode }> {
  const bus = new Bus();
  const [a, b] = await Promise.all([node(bus, "a"), node(bus, "b")]);
  a.presence.track({ ownerId: "a.1", topic: "room" }, "alice", {});
  b.presence.track({ ownerId: "b.1", topic: "room" }, "bob", {});
  await until(() => a.presence.countUsers("room") === 2 && b.presence.countUsers("room") === 2, 1_000, "both users on both nodes");
  await sleep(5);
  return { bus, a, b };
}

test("first join: one online on every node; a move to another node within the grace: nothing; a last leave: one offline everywhere after the grace", async () => {
  const bus = new Bus();
  const [a, b] = await Promise.all([node(bus, "a"), node(bus, "b")]);
  const watcher = new Watcher("b.w", "room");
  b.presence.subscribeOnline(watcher);
  assert.deepEqual(watcher.pushes, ['presence_online_state {"keys":[]}']);

  a.presence.track({ ownerId: "a.1", topic: "room" }, "alice", {});
  assert.deepEqual(a.hooks, ["online:room:alice"], "at once on the node that tracked");
  await until(() => b.hooks.length === 1, 1_000, "alice online on b");
  assert.deepEqual(b.hooks, ["online:room:alice"]);
  assert.deepEqual(watcher.pushes.slice(1), ['presence_online {"key":"alice"}']);

  // A second tab, then the first closes and the user reappears on the other node: still one user online.
  a.presence.track({ ownerId: "a.2", topic: "room" }, "alice", {});
  a.presence.untrackAll("a.1");
  a.presence.untrackAll("a.2");
  assert.equal(a.presence.isOnline("room", "alice"), true, "online within the grace");
  assert.equal(a.presence.countUsers("room"), 0, "though no meta is left");
  await sleep(GRACE / 3);
  b.presence.track({ ownerId: "b.1", topic: "room" }, "alice", {});
  await sleep(GRACE * 2);
  assert.deepEqual([a.hooks, b.hooks], [["online:room:alice"], ["online:room:alice"]], "no offline/online for a move within the grace");
  assert.equal(watcher.pushes.length, 2);

  const left = Date.now();
  b.presence.untrack({ ownerId: "b.1", topic: "room" }, "alice");
  await until(() => a.hooks.length === 2 && b.hooks.length === 2, 2_000, "offline on both nodes");
  assert.ok(Date.now() - left >= GRACE - 5, `not before the grace (${Date.now() - left} ms)`);
  assert.deepEqual([a.hooks[1], b.hooks[1]], ["offline:room:alice", "offline:room:alice"]);
  assert.deepEqual(watcher.pushes.slice(2), ['presence_offline {"key":"alice"}']);
  assert.equal(b.presence.countOnline("room"), 0);

  watcher.exit();
  a.presence.track({ ownerId: "a.3", topic: "room" }, "bob", {});
  await until(() => b.hooks.length === 3, 1_000, "bob online on b");
  assert.equal(watcher.pushes.length, 3, "an ended channel gets nothing more");
  await Promise.all([a.presence.close(), b.presence.close()]);
});

test("a node started later adopts who was online without events, reports later changes, and a closing node makes none", async () => {
  const { bus, a, b } = await aliceOnAAndBobOnB();
  const c = await node(bus, "c");
  const early = new Watcher("c.early", "room");
  c.presence.subscribeOnline(early);
  await until(() => c.presence.countUsers("room") === 2, 2_000, "c to catch up");
  assert.equal(early.pushes[0], 'presence_online_state {"keys":[]}', "a channel that opted in before c synced got what c knew");
  const corrected = early.pushes.at(-1)!.split(" ");
  assert.deepEqual([corrected[0], (JSON.parse(corrected[1]!) as { keys: string[] }).keys.sort()], ["presence_online_state", ["alice", "bob"]],
    "then the corrected list once c synced");
  assert.ok(early.pushes.every((push) => push.startsWith("presence_online_state ")), "no presence_online for who was already online");
  assert.equal(c.presence.countOnline("room"), 2);
  assert.deepEqual(c.hooks, [], "what was there before c started is not news");
  const watcher = new Watcher("c.w", "room");
  c.presence.subscribeOnline(watcher);
  assert.equal(watcher.pushes.length, 1);
  const [event, payload] = watcher.pushes[0]!.split(" ");
  assert.deepEqual([event, (JSON.parse(payload!) as { keys: string[] }).keys.sort()], ["presence_online_state", ["alice", "bob"]]);

  a.presence.track({ ownerId: "a.2", topic: "room" }, "carol", {});
  await until(() => c.hooks.length === 1, 1_000, "carol online on c");
  assert.deepEqual(c.hooks, ["online:room:carol"]);

  await c.presence.close();
  a.presence.untrackAll("a.1");
  await until(() => b.hooks.includes("offline:room:alice"), 2_000, "alice offline on b");
  assert.deepEqual(c.hooks, ["online:room:carol"], "a closed node makes no events");
  assert.deepEqual(a.hooks, ["online:room:alice", "online:room:bob", "online:room:carol", "offline:room:alice"]);
  await Promise.all([a.presence.close(), b.presence.close()]);
});

test("a hook that throws or rejects is logged and changes nothing; a bad leaveGraceMs is refused with a clear error", async () => {
  const bus = new Bus();
  const pubsub = new PubSub({ adapter: bus.adapter("solo") });
  await pubsub.start();
  const logged: string[] = [];
  const logger = { ...silentLogger, error: (_fields: Record<string, unknown>, message: string) => { logged.push(message); } };
  const presence = createPresence({
    pubsub, logger, ...timing,
    onOnline: () => { throw new Error("boom"); },
    onOffline: () => Promise.reject(new Error("later boom")),
  });
  const watcher = new Watcher("solo.w", "room");
  presence.subscribeOnline(watcher);
  presence.track({ ownerId: "solo.1", topic: "room" }, "alice", {});
  presence.untrack({ ownerId: "solo.1", topic: "room" }, "alice");
  await until(() => logged.length === 2, 2_000, "both hook failures logged");
  assert.deepEqual(logged, ["presence: presence_online hook threw", "presence: presence_offline hook threw"]);
  assert.deepEqual(watcher.pushes.slice(1), ['presence_online {"key":"alice"}', 'presence_offline {"key":"alice"}'], "the pushes went out all the same");
  await presence.close();
  assert.throws(() => createPresence({ pubsub, logger: silentLogger, leaveGraceMs: -1 }), /leaveGraceMs must be a finite number of ms ≥ 0, not -1/);
});

test("a node started later adopts everyone without events even when its first transfer came before it heard of every node", async () => {
  const { bus, a, b } = await aliceOnAAndBobOnB();
  // c hears only a at first: a's transfer carries b's members, but c does not know b yet.
  let cutOff = true;
  bus.filter = (from, to) => !(cutOff && from === "b" && to === "c");
  const c = await node(bus, "c");
  await until(() => c.presence.countUsers("room") === 1, 2_000, "c synced with a");
  await sleep(100);
  cutOff = false;
  await until(() => c.presence.countUsers("room") === 2, 2_000, "c to learn of bob");
  await sleep(GRACE);
  assert.deepEqual(c.hooks, [], "bob was online before c started: not news on c");
  await Promise.all([a.presence.close(), b.presence.close(), c.presence.close()]);
});
