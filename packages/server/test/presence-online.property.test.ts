/**
 * `OnlineState` (presence/online.ts), the pure online/offline logic, over random timelines.
 * The driver plays the offline timer exactly: before each change at time t it collects every
 * offline due at or before t, at the moment it fell due.
 *
 * Properties: one node's events are exactly the specification's (a key goes online at its first
 * meta, offline once it has had none for the grace, and nothing else: a key back within the
 * grace makes no event); and two nodes that see the same changes, each delayed by up to δ, make
 * the same events, each within δ of the other's — provided every absence is shorter than
 * grace − δ or longer than grace + δ, and every presence lasts at least δ (docs/presence.md).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { OnlineState, type OnlineEvent } from "../src/presence/online.js";

const GRACE = 1_000;
const KEYS = ["ann", "bob", "__proto__"] as const;

/** One change a node sees: at `time`, `key` has metas (`present`) or none. */
interface Change {
  readonly time: number;
  readonly key: string;
  readonly present: boolean;
}

/** An event with the (monotonic) time it was made. */
type Timed = OnlineEvent & { readonly time: number };

/** Plays `changes` (sorted by time) into a fresh state, firing offlines exactly when due. */
function play(changes: readonly Change[], end: number): Timed[] {
  const state = new OnlineState(GRACE);
  const out: Timed[] = [];
  const drain = (until: number): void => {
    for (let due = state.nextDue(); due !== undefined && due <= until; due = state.nextDue()) {
      for (const event of state.due(due)) out.push({ ...event, time: due });
    }
  };
  for (const change of changes) {
    drain(change.time);
    if (change.present) {
      const event = state.present("room", change.key, change.time);
      if (event !== undefined) out.push({ ...event, time: change.time });
    } else {
      state.absent("room", change.key, change.time);
    }
    assertConsistent(state);
  }
  drain(end);
  return out;
}

/** `count` and `online` agree with `isOnline` for every key. */
function assertConsistent(state: OnlineState): void {
  const online = KEYS.filter((key) => state.isOnline("room", key));
  assert.deepEqual([...state.online("room")].sort(), [...online].sort());
  assert.equal(state.count("room"), online.length);
}

/** The specification: online at each present after an offline (or at first), offline at absence start + grace when the absence lasts that long. */
function expected(changes: readonly Change[], end: number): Timed[] {
  const out: Timed[] = [];
  for (const key of KEYS) {
    let online = false;
    let absentSince: number | undefined;
    for (const change of changes.filter((c) => c.key === key)) {
      if (absentSince !== undefined && change.time >= absentSince + GRACE) {
        out.push({ kind: "offline", topic: "room", key, time: absentSince + GRACE });
        online = false;
        absentSince = undefined;
      }
      if (change.present) {
        if (!online) out.push({ kind: "online", topic: "room", key, time: change.time });
        online = true;
        absentSince = undefined;
      } else if (online && absentSince === undefined) {
        absentSince = change.time;
      }
    }
    if (absentSince !== undefined && end >= absentSince + GRACE) out.push({ kind: "offline", topic: "room", key, time: absentSince + GRACE });
  }
  return out;
}

const byTime = (a: Timed, b: Timed): number => a.time - b.time || a.key.localeCompare(b.key) || a.kind.localeCompare(b.kind);

test("one node: the events are exactly the specification's (online at first meta, offline after the grace, none for a return within it)", () => {
  const changeArb = fc.record({ step: fc.integer({ min: 0, max: 1_500 }), key: fc.constantFrom(...KEYS), present: fc.boolean() });
  fc.assert(fc.property(fc.array(changeArb, { maxLength: 60 }), fc.integer({ min: 0, max: 3_000 }), (steps, tail) => {
    let time = 0;
    const changes = steps.map(({ step, key, present }) => ({ time: (time += step), key, present }));
    const end = time + tail;
    const events = play(changes, end);
    assert.deepEqual([...events].sort(byTime), expected(changes, end).sort(byTime));
    for (const key of KEYS) {
      const kinds = events.filter((e) => e.key === key).map((e) => e.kind);
      kinds.forEach((kind, i) => assert.equal(kind, i % 2 === 0 ? "online" : "offline", `${key}: events alternate, online first`));
    }
  }), { numRuns: 500 });
});

/** One key's timeline: alternating presence (≥ δ) and absence (short < grace − δ, or long > grace + δ). */
const timelineArb = (delta: number) => fc.array(fc.record({
  present: fc.integer({ min: delta, max: 2_000 }),
  absent: fc.oneof(fc.integer({ min: 0, max: GRACE - delta - 1 }), fc.integer({ min: GRACE + delta + 1, max: 3 * GRACE })),
}), { minLength: 1, maxLength: 8 });

test("two nodes seeing the same changes, each delayed by up to δ, make the same events within δ of each other", () => {
  const caseArb = fc.integer({ min: 0, max: 300 }).chain((delta) => fc.record({
    delta: fc.constant(delta),
    timelines: fc.tuple(...KEYS.map(() => timelineArb(delta))),
    delays: fc.array(fc.integer({ min: 0, max: delta }), { minLength: 64, maxLength: 64 }),
    endPresent: fc.boolean(),
  }));
  fc.assert(fc.property(caseArb, ({ delta, timelines, delays, endPresent }) => {
    const nodeA: Change[] = [];
    const nodeB: Change[] = [];
    let d = 0;
    timelines.forEach((timeline, k) => {
      const key = KEYS[k]!;
      let time = 0;
      timeline.forEach(({ present, absent }, i) => {
        const last = i === timeline.length - 1;
        // Node A sees each change at once, node B up to δ later; B misses a short absence whose return reaches it first.
        nodeA.push({ time, key, present: true });
        nodeB.push({ time: time + delays[d++ % delays.length]!, key, present: true });
        time += present;
        if (last && endPresent) return;
        const leaveB = time + delays[d++ % delays.length]!;
        nodeA.push({ time, key, present: false });
        time += absent;
        const nextJoinB = last ? Infinity : time + delays[d % delays.length]!;
        if (leaveB < nextJoinB) nodeB.push({ time: leaveB, key, present: false });
      });
    });
    const sort = (changes: Change[]): Change[] => changes.sort((x, y) => x.time - y.time);
    const end = Math.max(...nodeA.map((c) => c.time), ...nodeB.map((c) => c.time)) + 2 * GRACE + delta;
    const a = play(sort(nodeA), end).sort(byTime);
    const b = play(sort(nodeB), end).sort(byTime);
    for (const key of KEYS) {
      const ea = a.filter((e) => e.key === key);
      const eb = b.filter((e) => e.key === key);
      assert.deepEqual(eb.map((e) => e.kind), ea.map((e) => e.kind), `${key}: same events on both nodes`);
      ea.forEach((e, i) => assert.ok(Math.abs(e.time - eb[i]!.time) <= delta, `${key}: event ${i} within δ on both nodes`));
    }
  }), { numRuns: 300 });
});

test("silent adoption, clear, and a decreasing clock", () => {
  const state = new OnlineState(100);
  assert.equal(state.present("t", "k", 0, true), undefined, "adopted without an event");
  assert.equal(state.isOnline("t", "k"), true);
  state.absent("t", "k", 10);
  assert.equal(state.nextDue(), 110);
  assert.deepEqual(state.due(109), []);
  assert.equal(state.present("t", "k", 109), undefined, "back within the grace: no event");
  assert.equal(state.nextDue(), undefined, "the pending offline is cancelled");
  state.absent("t", "k", 120);
  assert.deepEqual(state.due(220), [{ kind: "offline", topic: "t", key: "k" }]);
  assert.deepEqual(state.present("t", "k", 230), { kind: "online", topic: "t", key: "k" });
  state.absent("t", "k", 240);
  state.clear();
  assert.equal(state.nextDue(), undefined);
  assert.deepEqual(state.due(10_000), [], "a cleared state makes no event");
  assert.throws(() => state.present("t", "k", 5), RangeError);
  assert.throws(() => new OnlineState(-1), RangeError);
});
