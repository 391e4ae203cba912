/**
 * The primary's choice of worker: the fewest open connections among the accepting workers with
 * room that are not stalled; wait while that one is busy; a draining, starting or
 * full worker gets none, and when none can take one the answer says why. Also the worker's
 * capacity (never past its fd limit).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { hasRoom, pickWorker, slack, type WorkerLoad } from "../src/node/pick-worker.js";
import { workerCapacity } from "../src/node/receive.js";

const load = (id: number, open: number, extra: Partial<WorkerLoad> = {}): WorkerLoad =>
  ({ id, open, max: 100, accepting: true, full: false, busy: false, stalled: false, ...extra });

test("the worker holding the fewest connections wins; of equals one not busy, then the first", () => {
  assert.deepEqual(pickWorker([load(1, 5), load(2, 3), load(3, 4)]), { ok: true, id: 2 });
  assert.deepEqual(pickWorker([load(1, 3), load(2, 3)]), { ok: true, id: 1 });
  assert.deepEqual(pickWorker([load(1, 3, { busy: true }), load(2, 3)]), { ok: true, id: 2 });
});

test("while the least-loaded worker is busy (its window of handoffs full) one within the slack takes it, else wait; a stalled one is passed over", () => {
  assert.deepEqual(pickWorker([load(1, 3, { busy: true }), load(2, 6)]), { ok: false, reason: "wait" }, "not to one holding 3 more");
  assert.deepEqual(pickWorker([load(1, 3, { busy: true }), load(2, 5)]), { ok: true, id: 2 }, "to one within the slack (2)");
  assert.deepEqual(pickWorker([load(1, 1_000, { busy: true, max: 0 }), load(2, 1_005, { max: 0 })]), { ok: true, id: 2 }, "the slack is 0.5 % of a big load");
  assert.deepEqual(pickWorker([load(1, 1_000, { busy: true, max: 0 }), load(2, 1_006, { max: 0 })]), { ok: false, reason: "wait" });
  assert.equal(slack(0), 2);
  assert.equal(slack(10_000), 50);
  assert.deepEqual(pickWorker([load(1, 3, { busy: true, stalled: true }), load(2, 4)]), { ok: true, id: 2 });
  assert.deepEqual(pickWorker([load(1, 3, { busy: true, stalled: true })]), { ok: false, reason: "wait" }, "only a stalled one with room: wait");
});

test("a starting or draining worker and a full one get none", () => {
  assert.deepEqual(pickWorker([load(1, 0, { accepting: false }), load(2, 50)]), { ok: true, id: 2 });
  assert.deepEqual(pickWorker([load(1, 100), load(2, 99)]), { ok: true, id: 2 });
  assert.deepEqual(pickWorker([load(1, 0, { full: true }), load(2, 99)]), { ok: true, id: 2 });
  assert.deepEqual(pickWorker([load(1, 500, { max: 0 }), load(2, 100)]), { ok: true, id: 1 }, "max 0: no limit");
});

test("no pick says why: no worker accepting, or all full", () => {
  assert.deepEqual(pickWorker([]), { ok: false, reason: "no-worker", open: 0, max: 0 });
  assert.deepEqual(pickWorker([load(1, 3, { accepting: false })]), { ok: false, reason: "no-worker", open: 0, max: 0 });
  assert.deepEqual(pickWorker([load(1, 100), load(2, 100, { busy: true }), load(3, 0, { accepting: false })]), { ok: false, reason: "full", open: 200, max: 200 });
  assert.equal(hasRoom(load(1, 99)), true);
  assert.equal(hasRoom(load(1, 100)), false);
});

test("a worker takes at most its endpoint's maxConnections, never past its fd limit minus the reserve", () => {
  assert.equal(workerCapacity(undefined, 19_000), 19_000, "no endpoint: the fd limit");
  assert.equal(workerCapacity(0, 19_000), 19_000, "maxConnections 0 (no limit): still the fd limit");
  assert.equal(workerCapacity(500, 19_000), 500);
  assert.equal(workerCapacity(50_000, 19_000), 19_000);
  assert.equal(workerCapacity(500, 0), 500, "fd limit unknown");
  assert.equal(workerCapacity(0, 0), 0);
});
