/**
 * Graceful shutdown waits on promises, not polls: `close()` and `drain()` resolve when the last
 * connection has closed and the last channel's `terminate` and exit callbacks have run — not
 * before, and without waiting for a polling tick after — and still resolve when a `terminate`
 * never settles. Also the waiting primitives themselves (`DrainingMap`, `within`).
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { defineChannel, defineSocket, ok } from "../src/index.js";
import { DrainingMap, within } from "../src/draining.js";
import { serverPool } from "./support/server.js";
import { RawClient } from "./support/raw-client.js";

/** A promise with its resolver: lets a test decide when an async `terminate` finishes. */
function gate(): { promise: Promise<void>; open(): void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => { open = resolve; });
  return { promise, open };
}

/** Resolves on the next timer tick: anything that settles before it did not wait for a timer. */
function nextTimer(): Promise<"a timer fired first"> {
  return new Promise((resolve) => setTimeout(() => resolve("a timer fired first"), 0));
}

const gates = new Map<string, ReturnType<typeof gate>>();
const events: string[] = [];
let terminating: (() => void) | undefined;

const Slow = defineChannel({
  join(topic, _params, socket) {
    gates.set(topic, gate());
    socket.onExit(() => events.push(`exit ${topic}`));
    return ok();
  },
  async terminate(_reason, socket) {
    events.push(`terminate ${socket.topic}`);
    terminating?.();
    await gates.get(socket.topic)!.promise;
    events.push(`terminated ${socket.topic}`);
  },
});

const pool = serverPool({ socket: defineSocket({ channels: { "slow:*": Slow } }), shutdownTimeoutMs: 100 });
after(() => pool.closeAll());

/** Connects `count` clients, each joined to `slow:<prefix><i>`. */
async function joinedClients(url: string, prefix: string, count: number): Promise<string[]> {
  const topics: string[] = [];
  for (let i = 0; i < count; i++) {
    const client = await RawClient.connect(`${url}?vsn=2.0.0`);
    const topic = `slow:${prefix}${i}`;
    client.send(["1", "1", topic, "phx_join", {}]);
    await client.reply("1");
    topics.push(topic);
  }
  return topics;
}

/** Resolves once `n` terminate callbacks (in total) have started. */
function terminateStarted(n: number): Promise<void> {
  return new Promise((resolve) => {
    terminating = () => {
      if (events.filter((e) => e.startsWith("terminate ")).length >= n) resolve();
    };
  });
}

for (const how of ["close", "drain"] as const) {
  test(`${how}() resolves right after the last channel's terminate and exit callbacks, not before`, async () => {
    events.length = 0;
    const server = await pool.start();
    const topics = await joinedClients(server.websocketUrl, how, 3);
    const started = terminateStarted(3);
    const stopping = how === "close" ? server.endpoint.close() : server.endpoint.drain(0);
    const done = stopping.then(() => events.push(`${how} resolved`));
    await started;
    for (const topic of topics.slice(0, 2)) gates.get(topic)!.open();
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(events.includes(`${how} resolved`), false, "still waiting for the last terminate");
    const last = topics[2]!;
    gates.get(last)!.open();
    assert.equal(await Promise.race([done.then(() => `${how} resolved`), nextTimer()]), `${how} resolved`);
    assert.deepEqual(events.slice(-3), [`terminated ${last}`, `exit ${last}`, `${how} resolved`]);
    for (const topic of topics) assert.ok(events.includes(`exit ${topic}`), `exit callbacks of ${topic} ran`);
  });
}

test("close() still resolves when a terminate never settles (after the shutdown grace)", async () => {
  events.length = 0;
  const server = await pool.start();
  const [topic] = await joinedClients(server.websocketUrl, "stuck", 1);
  const started = terminateStarted(1);
  const closing = server.endpoint.close();
  await started;
  await closing;
  assert.deepEqual(events, [`terminate ${topic}`], "the stuck terminate never finished, and close went on without it");
});

test("DrainingMap.whenEmpty resolves at once when empty, else every waiter when the last entry goes", async () => {
  const map = new DrainingMap<string, number>();
  assert.equal(await Promise.race([map.whenEmpty().then(() => "empty"), nextTimer()]), "empty");
  map.set("a", 1);
  map.set("b", 2);
  const order: string[] = [];
  const waiters = [map.whenEmpty().then(() => order.push("first waiter")), map.whenEmpty().then(() => order.push("second waiter"))];
  map.delete("a");
  map.delete("missing");
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(order.length, 0, "one entry left: nobody woken");
  order.push("last deleted");
  map.delete("b");
  await Promise.all(waiters);
  assert.deepEqual(order, ["last deleted", "first waiter", "second waiter"]);
});

test("DrainingMap.whenEmpty resolves when the map is cleared", async () => {
  const map = new DrainingMap<string, number>();
  map.set("a", 1);
  const emptied = map.whenEmpty().then(() => map.size);
  map.clear();
  assert.equal(await emptied, 0);
});

test("within: true when the promise settles first, false when the time runs out first", async () => {
  assert.equal(await within(Promise.resolve(), 10_000), true);
  assert.equal(await within(new Promise(() => {}), 1), false);
});
