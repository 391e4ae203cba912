/**
 * The big-room policy, pure: options checked with clear refusals, the mode's hysteresis, the
 * update rate, and the sample (sticky, capped, never a meta on both sides of its diff, and a
 * client applying every sample diff holds exactly the sample), over seeded random churn.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { RoomSample, defaultBigRoom, nextMode, nextUpdateDelay, resolveBigRoom, type BigRoomPolicy } from "../src/presence/big-room.js";
import type { PendingDiff } from "../src/presence/diff-window.js";
import type { Entry } from "../src/presence/state.js";
import { prng } from "./support/prng.js";

const policy = (options: Parameters<typeof resolveBigRoom>[0]): BigRoomPolicy => {
  const result = resolveBigRoom(options);
  if (!result.ok) throw new Error(result.message);
  return result.policy;
};

let counter = 0;
const entry = (key: string): Entry => ({ topic: "t", key, owner: `o${counter}`, meta: { phx_ref: `r${counter}` }, replica: "n1", counter: ++counter });
const dot = (e: Entry): string => `${e.replica}\u0001${e.counter}`;
const pending = (joins: Entry[], leaves: Entry[] = []): PendingDiff =>
  ({ joins: new Map(joins.map((e) => [dot(e), e])), leaves: new Map(leaves.map((e) => [dot(e), e])) });

test("options: defaults, leaveBelow 90 % of threshold, clear refusals", () => {
  assert.deepEqual(policy({}), defaultBigRoom);
  assert.deepEqual(policy({ threshold: 50 }), { threshold: 50, leaveBelow: 45, sampleSize: 100, countIntervalMs: 1000 });
  assert.equal(policy({ threshold: 1 }).leaveBelow, 1);
  for (const [options, words] of [
    [{ threshold: 0 }, /threshold must be an integer ≥ 1/],
    [{ threshold: 1.5 }, /threshold/],
    [{ threshold: 10, leaveBelow: 11 }, /leaveBelow must be an integer from 1 to threshold \(10\)/],
    [{ sampleSize: -1 }, /sampleSize/],
    [{ sampleSize: 5000 }, /sampleSize must be an integer from 0 to 1000/],
    [{ countIntervalMs: 10 }, /countIntervalMs must be an integer ≥ 50/],
    [{ threshold: "100" as unknown as number }, /threshold/],
  ] as const) {
    const result = resolveBigRoom(options);
    assert.equal(result.ok, false, JSON.stringify(options));
    if (!result.ok) assert.match(result.message, words);
  }
});

test("mode: enters at the threshold, leaves only below leaveBelow (no flapping at the edge)", () => {
  const p = policy({ threshold: 100, leaveBelow: 90 });
  assert.equal(nextMode("list", 99, p), "list");
  assert.equal(nextMode("list", 100, p), "count");
  let mode = nextMode("list", 100, p);
  let switches = 0;
  for (const n of [99, 100, 98, 101, 91, 90, 95, 100]) {
    const next = nextMode(mode, n, p);
    if (next !== mode) switches++;
    mode = next;
  }
  assert.equal(switches, 0, "a room between 90 and 101 stays in count mode");
  assert.equal(nextMode("count", 89, p), "list");
  assert.equal(nextMode("list", 95, p), "list", "and back in list mode it stays there until 100 again");
});

test("rate: the next update waits countIntervalMs after the last one, at once the first time", () => {
  const p = policy({ countIntervalMs: 1000 });
  assert.equal(nextUpdateDelay(undefined, 5000, p), 0);
  assert.equal(nextUpdateDelay(5000, 5200, p), 800);
  assert.equal(nextUpdateDelay(5000, 7000, p), 0);
});

test("sample: seeded from the state up to its size, sticky, refilled by recent joins first", () => {
  const initial = Array.from({ length: 8 }, (_, i) => entry(`k${i}`));
  const sample = new RoomSample(5, initial);
  assert.deepEqual(sample.entries().map((e) => e.key), ["k0", "k1", "k2", "k3", "k4"]);
  assert.deepEqual(sample.take(), { joins: [], leaves: [] }, "the seed is sent as the state, not as a diff");
  const late = entry("late");
  sample.apply(pending([late], [initial[1]!, initial[6]!]));
  assert.deepEqual(sample.entries().map((e) => e.key), ["k0", "k2", "k3", "k4", "late"], "the vacancy goes to the recent join");
  const diff = sample.take();
  assert.deepEqual(diff.joins.map((e) => e.key), ["late"]);
  assert.deepEqual(diff.leaves.map((e) => e.key), ["k1"], "a leave outside the sample is not sent");
  sample.apply(pending([], [initial[0]!]));
  assert.ok(sample.wantsMore(6));
  assert.ok(!sample.wantsMore(4), "no more when the room holds no meta outside the sample");
  sample.refill([...initial.slice(2), late]);
  assert.deepEqual(sample.entries().map((e) => e.key), ["k2", "k3", "k4", "late", "k5"]);
  sample.apply(pending([], [sample.entries()[4]!]));
  const after = sample.take();
  assert.deepEqual(after.joins, [], "a meta that entered and left the sample between two updates is in neither side");
  assert.deepEqual(after.leaves.map((e) => e.key), ["k0"]);
});

test("sample under seeded random churn: capped, one side per meta, and a client applying the diffs holds the sample", () => {
  for (let seed = 1; seed <= 30; seed++) {
    const random = prng(seed);
    const present = new Map<string, Entry>();
    for (let i = 0; i < 20; i++) { const e = entry(`s${i}`); present.set(dot(e), e); }
    const size = 1 + Math.floor(random() * 8);
    const sample = new RoomSample(size, present.values());
    const client = new Set(sample.entries().map(dot));
    sample.take();
    for (let round = 0; round < 40; round++) {
      const joins: Entry[] = [];
      const leaves: Entry[] = [];
      const windows = 1 + Math.floor(random() * 3);
      for (let w = 0; w < windows; w++) {
        const wj: Entry[] = [];
        const wl: Entry[] = [];
        for (let i = Math.floor(random() * 6); i > 0; i--) { const e = entry(`j${round}.${w}.${i}`); present.set(dot(e), e); wj.push(e); }
        for (const [d, e] of present) if (random() < 0.15) { present.delete(d); if (wj.includes(e)) wj.splice(wj.indexOf(e), 1); wl.push(e); }
        sample.apply(pending(wj, wl));
        joins.push(...wj);
        leaves.push(...wl);
      }
      if (sample.wantsMore(present.size)) sample.refill(present.values());
      const diff = sample.take();
      const joinDots = diff.joins.map(dot);
      const leaveDots = new Set(diff.leaves.map(dot));
      assert.ok(joinDots.every((d) => !leaveDots.has(d)), `seed ${seed}: a meta on both sides`);
      for (const d of joinDots) client.add(d);
      for (const d of leaveDots) client.delete(d);
      const expected = sample.entries().map(dot);
      assert.ok(expected.length <= size, `seed ${seed}: sample over its size`);
      assert.ok(expected.every((d) => present.has(d)), `seed ${seed}: a sampled meta is gone`);
      assert.equal(expected.length, Math.min(size, present.size), `seed ${seed}: vacancies left unfilled`);
      assert.deepEqual([...client].sort(), [...expected].sort(), `seed ${seed}: the client's view is not the sample`);
    }
  }
});
