/** Backoffs: the default reconnect delays are jittered, exponential and capped; rejoins follow phoenix's steps with jitter. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { defaultReconnectAfterMs, defaultRejoinAfterMs, exponentialBackoff, steppedBackoff } from "../src/index.js";
import { RetryTimer } from "../src/backoff.js";
import { delay, waitUntil } from "./support/server.js";

function sample(fn: (tries: number) => number, tries: number, n = 400): number[] {
  return Array.from({ length: n }, () => fn(tries));
}

test("default reconnect: 150–450 ms first, doubling, ±50 % jitter, capped at 5–15 s; never a fixed 10 ms", () => {
  const bases = [300, 600, 1200, 2400, 4800, 9600, 10_000, 10_000, 10_000, 10_000];
  bases.forEach((base, i) => {
    const values = sample(defaultReconnectAfterMs, i + 1);
    const min = Math.min(...values);
    const max = Math.max(...values);
    assert.ok(min >= base * 0.5 && max <= base * 1.5, `try ${i + 1}: ${min}–${max} within ${base * 0.5}–${base * 1.5}`);
    assert.ok(new Set(values).size > 20, `try ${i + 1} is jittered`);
    assert.ok(max - min > base * 0.6, `try ${i + 1} spreads over most of the range (${min}–${max})`);
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    assert.ok(Math.abs(mean - base) < base * 0.1, `try ${i + 1} centred on ${base} (mean ${mean.toFixed(0)})`);
  });
  assert.ok(sample(defaultReconnectAfterMs, 1).every((v) => v >= 150), "no near-zero first retry");
  assert.ok(sample(defaultReconnectAfterMs, 1000).every((v) => v <= 15_000), "capped");
});

test("default rejoin: 1 s, 2 s, 5 s, then 10 s, each plus 0–25 %", () => {
  [[1, 1000], [2, 2000], [3, 5000], [4, 10_000], [9, 10_000]].forEach(([tries = 0, base = 0]) => {
    const values = sample(defaultRejoinAfterMs, tries);
    assert.ok(Math.min(...values) >= base && Math.max(...values) <= base * 1.25, `rejoin try ${tries}`);
    assert.ok(new Set(values).size > 20, `rejoin try ${tries} is jittered`);
  });
});

test("exponentialBackoff and steppedBackoff with a fixed random source give exact bounds", () => {
  const low = exponentialBackoff({ baseMs: 100, maxMs: 1000, random: () => 0 });
  const high = exponentialBackoff({ baseMs: 100, maxMs: 1000, random: () => 1 });
  assert.deepEqual([1, 2, 3, 4, 5, 6].map(low), [50, 100, 200, 400, 500, 500]);
  assert.deepEqual([1, 2, 3, 4, 5, 6].map(high), [150, 300, 600, 1200, 1500, 1500]);
  const none = exponentialBackoff({ baseMs: 100, maxMs: 1000, factor: 3, jitter: 0 });
  assert.deepEqual([1, 2, 3, 4].map(none), [100, 300, 900, 1000]);
  const stepped = steppedBackoff([10, 20], 0);
  assert.deepEqual([0, 1, 2, 3].map(stepped), [10, 10, 20, 20]);
  const steppedHigh = steppedBackoff([100, 200], 0.5, () => 1);
  assert.deepEqual([1, 2, 3].map(steppedHigh), [150, 300, 300]);
  assert.throws(() => steppedBackoff([]), RangeError);
});

test("RetryTimer counts tries, passes them to the delay function, and reset starts over", async () => {
  const seen: number[] = [];
  let fired = 0;
  const timer = new RetryTimer(() => { fired += 1; }, (tries) => { seen.push(tries); return 5; });
  timer.schedule();
  await waitUntil(() => fired === 1, 500, "first attempt");
  timer.schedule();
  await waitUntil(() => fired === 2, 500, "second attempt");
  assert.deepEqual(seen, [1, 2]);
  assert.equal(timer.tries, 2);
  timer.schedule();
  timer.reset();
  await delay(30);
  assert.equal(fired, 2, "reset cancels the pending attempt");
  timer.schedule();
  assert.deepEqual(seen, [1, 2, 3, 1]);
  timer.reset();
});
