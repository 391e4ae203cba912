/**
 * The online counts every page shows: after a change at once, and during a burst of changes at
 * most once per interval (longer for bigger rooms), the last update always with the counts of
 * its moment, so no change of a burst is lost.
 */
import { mock, test } from "node:test";
import assert from "node:assert/strict";
import { ALL, onlineCountsHook, onlineCountsIntervalMs, type OnlineCounts } from "../src/channels/notifications.js";

const NO_DIFF = { joins: {}, leaves: {} };

/** A hook on a fake presence and a fake clock (setTimeout mocked by node:test). */
function setup(): { counts: OnlineCounts; sent: OnlineCounts[]; hook: ReturnType<typeof onlineCountsHook>; advance(ms: number): void } {
  mock.timers.enable({ apis: ["setTimeout"] });
  let clock = 0;
  const counts: OnlineCounts = { users: 1, connections: 1 };
  const sent: OnlineCounts[] = [];
  const hook = onlineCountsHook(
    () => ({ countUsers: () => counts.users, countConnections: () => counts.connections }),
    (topic, event, payload) => { assert.equal(topic, ALL); assert.equal(event, "online"); sent.push(payload as OnlineCounts); },
    () => clock,
  );
  return { counts, sent, hook, advance(ms) { clock += ms; mock.timers.tick(ms); } };
}

test("the interval is a second, one more per 10,000 connections", () => {
  assert.equal(onlineCountsIntervalMs(0), 1000);
  assert.equal(onlineCountsIntervalMs(9_999), 1000);
  assert.equal(onlineCountsIntervalMs(25_000), 3000);
  assert.equal(onlineCountsIntervalMs(100_000), 11_000);
});

test("a change goes out at once; a burst after it gives one more update, with the counts at its end", (t) => {
  const { counts, sent, hook, advance } = setup();
  t.after(() => { hook.close(); mock.timers.reset(); });
  hook.handleMetas(ALL, NO_DIFF);
  assert.deepEqual(sent, [{ users: 1, connections: 1 }], "the first change at once");
  for (let i = 2; i <= 5; i++) {
    counts.users = i;
    counts.connections = i + 1;
    hook.handleMetas(ALL, NO_DIFF);
    advance(100);
  }
  assert.equal(sent.length, 1, "nothing more within the interval");
  advance(599);
  assert.equal(sent.length, 1);
  advance(1);
  assert.deepEqual(sent, [{ users: 1, connections: 1 }, { users: 5, connections: 6 }], "one update when the interval ends, with the latest counts");
  advance(5000);
  assert.equal(sent.length, 2, "no update without a change");
  hook.handleMetas(ALL, NO_DIFF);
  assert.equal(sent.length, 3, "a change after a quiet interval goes out at once");
});

test("other topics are not counted; a big room waits longer; close cancels the pending update", (t) => {
  const { counts, sent, hook, advance } = setup();
  t.after(() => { hook.close(); mock.timers.reset(); });
  hook.handleMetas("retro:lobby", NO_DIFF);
  assert.equal(sent.length, 0);
  counts.connections = 30_000;
  hook.handleMetas(ALL, NO_DIFF);
  hook.handleMetas(ALL, NO_DIFF);
  advance(3999);
  assert.equal(sent.length, 1, "4 s between updates at 30,000 connections");
  advance(1);
  assert.equal(sent.length, 2);
  hook.handleMetas(ALL, NO_DIFF);
  hook.close();
  advance(10_000);
  assert.equal(sent.length, 2, "nothing after close");
});
