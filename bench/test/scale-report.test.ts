/**
 * The scale scenario's arithmetic and flags (bench/src/scale/report.ts, options.ts) on given
 * inputs: what its figures mean, so a reader of bench/results/scale-*.md can trust them.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { burstRate, connectRate, goals, mergeDeliveries, outcomes, percentile, steadySummary, type ScaleResult, type SentBroadcast } from "../src/scale/report.js";
import { OptionsError, scaleOptions, workersFor } from "../src/scale/options.js";

test("time to all is the last receive over every load process minus the send time; fewer receivers than open is incomplete", () => {
  const merged = mergeDeliveries([
    [{ seq: 0, sentAt: 1000, count: 3, first: 1010, last: 1400 }, { seq: 1, sentAt: 2000, count: 3, first: 2005, last: 2100 }],
    [{ seq: 0, sentAt: 1000, count: 2, first: 1005, last: 1900 }, { seq: 1, sentAt: 2000, count: 1, first: 2050, last: 2060 }],
  ]);
  assert.deepEqual(merged.get(0), { count: 5, first: 1005, last: 1900 });
  const sent: SentBroadcast[] = [{ seq: 0, phase: "first", sentAt: 1000 }, { seq: 1, phase: "steady", sentAt: 2000 }, { seq: 2, phase: "steady", sentAt: 3000 }];
  const [first, second, third] = outcomes(sent, merged, 5);
  assert.equal(first!.timeToAllMs, 900);
  assert.equal(first!.firstMs, 5);
  assert.equal(first!.complete, true);
  assert.equal(second!.received, 4);
  assert.equal(second!.complete, false);
  assert.equal(second!.timeToAllMs, Infinity);
  assert.equal(third!.received, 0);
  assert.ok(Number.isNaN(third!.firstMs));
});

test("steady p50 / p99 are nearest-rank over the steady broadcasts only; an incomplete one makes p99 Infinity", () => {
  assert.equal(percentile([5, 1, 4, 2, 3], 0.5), 3);
  assert.equal(percentile([5, 1, 4, 2, 3], 0.99), 5);
  assert.ok(Number.isNaN(percentile([], 0.5)));
  const make = (seq: number, phase: SentBroadcast["phase"], time: number) => ({ seq, phase, sentAt: 0, received: 1, expected: 1, complete: Number.isFinite(time), timeToAllMs: time, firstMs: 0 });
  const times = Array.from({ length: 100 }, (_, i) => make(i + 1, "steady", i + 1));
  const summary = steadySummary([make(0, "first", 5000), ...times]);
  assert.deepEqual(summary, { count: 100, complete: 100, p50Ms: 50, p99Ms: 99, maxMs: 100 });
  const withLoss = steadySummary([...times.slice(1), make(101, "steady", Infinity)]);
  assert.equal(withLoss.complete, 99);
  assert.equal(withLoss.p99Ms, 100);
  assert.equal(withLoss.maxMs, Infinity);
});

test("deliveries/s at saturation: every delivery of the burst over first send → last receive", () => {
  const sent: SentBroadcast[] = [{ seq: 7, phase: "steady", sentAt: 0 }, { seq: 8, phase: "burst", sentAt: 10_000 }, { seq: 9, phase: "burst", sentAt: 10_010 }];
  const merged = new Map([[7, { count: 1000, first: 1, last: 99_999 }], [8, { count: 1000, first: 10_001, last: 10_400 }], [9, { count: 1000, first: 10_020, last: 10_500 }]]);
  assert.deepEqual(burstRate(outcomes(sent, merged, 1000), merged), { count: 2, deliveries: 2000, seconds: 0.5, perSecond: 4000 });
  assert.ok(Number.isNaN(burstRate([], merged).perSecond));
});

test("connects+joins/s: all joins over the first connect start → the last join, across load processes", () => {
  const rate = connectRate([{ joined: 600, firstStartAt: 1000, lastJoinAt: 1500 }, { joined: 400, firstStartAt: 1100, lastJoinAt: 1600 }]);
  assert.deepEqual(rate, { joined: 1000, seconds: 0.6, perSecond: 1000 / 0.6 });
  assert.equal(connectRate([{ joined: 0, firstStartAt: 1, lastJoinAt: 0 }]).perSecond, 0);
});

test("goals: RSS counts the larger snapshot; a missing first broadcast fails its goal; nothing joined meets none", () => {
  const result = {
    connections: 10, connect: { joined: 10, failed: 0, perSecond: 2500 }, hold: { seconds: 120, dropped: 0 },
    idle: { cpuPercentOfCore: 4.9 }, rss: { totalAfterJoinBytes: 2.6e9, totalEndBytes: 1e9 },
    firstBroadcast: undefined, steady: { count: 30, p99Ms: 1999 },
  } as unknown as ScaleResult;
  // joined, rate, held, first broadcast, steady p99, idle CPU, RSS
  assert.deepEqual(goals(result).map((g) => g.met), [true, true, true, false, true, true, false]);
  // a run where nobody got in holds nothing and measures no memory: those goals are not met
  const empty = { ...result, connect: { joined: 0, failed: 0, perSecond: Number.NaN }, hold: { seconds: 0, dropped: 0 },
    rss: { totalAfterJoinBytes: 0, totalEndBytes: 0 }, steady: { count: 0, p99Ms: Number.NaN }, idle: { cpuPercentOfCore: Number.NaN } } as unknown as ScaleResult;
  assert.deepEqual(goals(empty).map((g) => g.met), [false, false, false, false, false, false, false]);
});

test("flags: defaults hold ≤ 16,000 a worker and ≤ 16,667 a load process; servers repeat or comma-list; bad values are clear errors", () => {
  const defaults = scaleOptions([]);
  assert.equal(defaults.connections, 100_000);
  assert.equal(workersFor(defaults), 7);
  assert.equal(defaults.loadProcesses, 6);
  assert.deepEqual(defaults.servers, ["cinder"]);
  assert.equal(defaults.holdSeconds, 120);
  assert.equal(defaults.broadcasts, 30);
  assert.equal(defaults.json && defaults.md, true);
  const small = scaleOptions(["--server", "cinder,socketio", "--server", "demo", "--connections", "4000", "--workers", "2", "--json"]);
  assert.deepEqual(small.servers, ["cinder", "socketio", "demo"]);
  assert.equal(workersFor(small), 2);
  assert.equal(small.loadProcesses, 1);
  assert.equal(small.md, false);
  assert.throws(() => scaleOptions(["--server", "phoenix"]), OptionsError);
  assert.throws(() => scaleOptions(["--connections", "100000", "--load-processes", "2"]), /at most 19000/);
  assert.throws(() => scaleOptions(["--rate", "fast"]), /--rate must be an integer/);
  assert.throws(() => scaleOptions(["--bogus"]), OptionsError);
  assert.equal(defaults.accept, undefined, "no --accept: the server's own default");
  assert.equal(scaleOptions(["--accept", "shared"]).accept, "shared");
  assert.throws(() => scaleOptions(["--accept", "kernel"]), /--accept must be shared or primary/);
});
