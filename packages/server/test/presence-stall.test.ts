/**
 * A saturated event loop is not a dead peer: two trackers whose loop is blocked in bursts far
 * longer than the down period keep each other up (the stalled observer does not count its own
 * stall as the peer's silence, and judges only after the gossip that waited is delivered),
 * while a peer that really goes silent is still marked down.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createPresence, PubSub, type Logger, silentLogger, type Presence } from "../src/index.js";
import { Bus } from "./support/bus.js";
import { sleep } from "./support/raw-client.js";

const timing = { broadcastPeriodMs: 20, downPeriodMs: 80, permdownPeriodMs: 60_000, maxSilentPeriods: 1, diffWindowMs: 0 };

/** A logger that records the messages of warn lines (where "replica down" is logged). */
function recordingLogger(lines: string[]): Logger {
  const record = (_fields: unknown, message?: string): void => {
    if (message !== undefined) lines.push(message);
  };
  return { ...silentLogger, warn: record } as Logger;
}

async function node(bus: Bus, name: string, logger: Logger): Promise<{ pubsub: PubSub; presence: Presence }> {
  const pubsub = new PubSub({ adapter: bus.adapter(name) });
  await pubsub.start();
  return { pubsub, presence: createPresence({ pubsub, logger, ...timing }) };
}

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; !check(); i++) {
    if (i > 500) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** Blocks this process's event loop for `ms` (busy work, like a fan-out burst). */
function block(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) { /* saturated */ }
}

test("bursts of a blocked loop longer than the down period mark no live replica down", async () => {
  const bus = new Bus();
  const warnings: string[] = [];
  const [a, b] = await Promise.all([node(bus, "a", recordingLogger(warnings)), node(bus, "b", recordingLogger(warnings))]);
  a.presence.track({ ownerId: "a.1", topic: "room" }, "alice", {});
  b.presence.track({ ownerId: "b.1", topic: "room" }, "bob", {});
  await until(() => a.presence.countUsers("room") === 2 && b.presence.countUsers("room") === 2, "both members on both nodes");
  let lowest = 2;
  for (let burst = 0; burst < 15; burst++) {
    block(5 * timing.downPeriodMs);
    // Between bursts the loop gets a few periods, as under fan-out every second.
    for (let i = 0; i < 6; i++) {
      await sleep(timing.broadcastPeriodMs);
      lowest = Math.min(lowest, a.presence.countUsers("room"), b.presence.countUsers("room"));
    }
  }
  assert.deepEqual(warnings.filter((w) => w.includes("replica down")), [], "no replica marked down");
  assert.equal(lowest, 2, "no member left during the stalls");
  await a.presence.close();
  await b.presence.close();
});

test("a replica that really falls silent is still marked down", async () => {
  const bus = new Bus();
  const warnings: string[] = [];
  const [a, b] = await Promise.all([node(bus, "a", silentLogger), node(bus, "b", recordingLogger(warnings))]);
  a.presence.track({ ownerId: "a.1", topic: "room" }, "alice", {});
  await until(() => b.presence.countUsers("room") === 1, "alice on b");
  bus.filter = (from) => from !== "a";
  await until(() => b.presence.countUsers("room") === 0, "a marked down on b");
  assert.ok(warnings.some((w) => w.includes("replica down")), "the down is logged");
  await a.presence.close();
  await b.presence.close();
});
