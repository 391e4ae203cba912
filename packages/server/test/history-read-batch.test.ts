/**
 * `SinceReads` (coalesced `since` reads of a shared history store): many rejoins from the same
 * positions cost one store read, and every answer is what a read issued after the request would
 * give — all the publications after the position up to the stream's current one (nothing
 * published before the request is missing), or a gap; never a partial replay. Randomized over
 * seeded interleavings of appends, requests and slow store reads.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { MemoryHistory, SinceReads, type HistoryRead, type HistoryStore, type Publication, type StreamLimits, type StreamPosition } from "../src/index.js";
import { prng } from "./support/prng.js";

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** A memory store that answers `since` late, like a store across a network: after `delay()` turns, read then or when asked. */
class SlowStore implements HistoryStore {
  readonly deliversItself = true;
  reads = 0;
  constructor(readonly inner: MemoryHistory, private readonly delay: () => number, private readonly readLate: () => boolean) {}
  append(topic: string, event: string, payload: unknown, limits: StreamLimits): Publication {
    return this.inner.append(topic, event, payload, limits);
  }
  async since(topic: string, from: StreamPosition, limits: StreamLimits): Promise<HistoryRead> {
    this.reads++;
    const early = this.readLate() ? undefined : this.inner.since(topic, from, limits);
    for (let i = this.delay(); i > 0; i--) await tick();
    return early ?? this.inner.since(topic, from, limits);
  }
  last(topic: string, count: number, limits: StreamLimits): HistoryRead {
    return this.inner.last(topic, count, limits);
  }
  close(): void {
    this.inner.close();
  }
}

test("100 rejoins from a few positions in one turn cost one store read and each gets what follows its own position", async () => {
  const store = new SlowStore(new MemoryHistory(), () => 1, () => false);
  const limits: StreamLimits = { size: 1000, ttlMs: 60_000 };
  let epoch = "";
  for (let i = 0; i < 50; i++) epoch = store.append("t", "e", { i }, limits).position.epoch;
  const reads = new SinceReads(store);
  const offsets = Array.from({ length: 100 }, (_, i) => 40 + (i % 5));
  const answers = await Promise.all(offsets.map((offset) => reads.since("t", { epoch, offset }, limits)));
  assert.equal(store.reads, 1);
  answers.forEach((answer, i) => {
    assert.equal(answer.kind, "complete");
    if (answer.kind !== "complete") return;
    assert.deepEqual(answer.publications.map((p) => p.position.offset), Array.from({ length: 50 - offsets[i]! }, (_, k) => offsets[i]! + 1 + k));
    assert.deepEqual(answer.position, { epoch, offset: 50 });
  });
  // The same publication objects are shared (decoded once).
  const [a, b] = [answers[0], answers[5]];
  assert.ok(a?.kind === "complete" && b?.kind === "complete" && a.publications[0] === b.publications[0]);
  store.close();
});

test("a request made while a read is in flight waits for the next read, so it sees what was published meanwhile", async () => {
  const inner = new MemoryHistory();
  const store = new SlowStore(inner, () => 3, () => false);
  const limits: StreamLimits = { size: 100, ttlMs: 60_000 };
  const epoch = store.append("t", "e", { i: 1 }, limits).position.epoch;
  const reads = new SinceReads(store);
  const first = reads.since("t", { epoch, offset: 0 }, limits);
  await tick(); // the first read is issued (and answers from offset 1 as of now)
  store.append("t", "e", { i: 2 }, limits);
  const second = reads.since("t", { epoch, offset: 0 }, limits);
  const [one, two] = await Promise.all([first, second]);
  assert.ok(one.kind === "complete" && two.kind === "complete");
  assert.deepEqual(one.publications.map((p) => p.position.offset), [1]);
  assert.deepEqual(two.publications.map((p) => p.position.offset), [1, 2]);
  assert.equal(store.reads, 2);
  store.close();
});

test("coalesced answers are complete and contiguous from each position, or gaps (300 seeded interleavings)", async () => {
  for (let seed = 1; seed <= 300; seed++) {
    const random = prng(seed);
    const limits: StreamLimits = { size: 3 + Math.floor(random() * 30), ttlMs: 60_000 };
    const store = new SlowStore(new MemoryHistory(), () => Math.floor(random() * 4), () => random() < 0.5);
    const reads = new SinceReads(store);
    const epoch = store.append("t", "e", { n: 1 }, limits).position.epoch;
    let current = 1;
    const checks: Array<Promise<void>> = [];
    let requests = 0;
    for (let step = 0; step < 80; step++) {
      const roll = random();
      if (roll < 0.3) {
        current = store.append("t", "e", { n: current + 1 }, limits).position.offset;
      } else if (roll < 0.8) {
        requests++;
        const kind = random();
        // Mostly recent positions (a node's clients were cut together), some old, some ahead, some of another epoch.
        const offset = kind < 0.7 ? Math.max(0, current - Math.floor(random() * 4)) : kind < 0.85 ? Math.floor(random() * (current + 1)) : current + 1 + Math.floor(random() * 3);
        const from = { epoch: kind > 0.95 ? "other" : epoch, offset };
        const atRequest = current;
        checks.push(reads.since("t", from, limits).then((read) => {
          const where = `seed ${seed} step ${step} from ${from.epoch}:${offset} (current ${atRequest})`;
          if (from.epoch !== epoch) {
            assert.equal(read.kind, "gap", where);
            return;
          }
          if (read.kind === "gap") {
            // A position the stream had reached: the store itself (reading now) would not give it either.
            if (offset <= atRequest) assert.equal(store.inner.since("t", from, limits).kind, "gap", where);
            return;
          }
          assert.ok(read.position.offset >= atRequest, `${where}: the read was issued after the request`);
          assert.deepEqual(read.publications.map((p) => p.position.offset), Array.from({ length: read.position.offset - offset }, (_, k) => offset + 1 + k), where);
          for (const p of read.publications) assert.deepEqual(p.payload, { n: p.position.offset }, where);
        }));
      } else {
        await tick();
      }
    }
    await Promise.all(checks);
    assert.ok(store.reads <= requests, `seed ${seed}: never more store reads than requests`);
    store.close();
  }
});
