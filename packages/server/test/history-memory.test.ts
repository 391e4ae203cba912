/**
 * The in-memory history store: offsets grow by one per publication, reads after a position
 * give exactly what came later (or a gap, never a partial answer), size and TTL bound it, and a
 * forgotten stream comes back with a new epoch. Randomized over seeded operation sequences.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { MemoryHistory, type StreamLimits } from "../src/index.js";
import { prng } from "./support/prng.js";

test("reads after a position return every later publication in order, or a gap when history no longer holds them (500 seeded runs)", () => {
  for (let seed = 1; seed <= 500; seed++) {
    const random = prng(seed);
    let now = 0;
    const store = new MemoryHistory({ now: () => now });
    const limits: StreamLimits = { size: 1 + Math.floor(random() * 20), ttlMs: 1_000 };
    const published: Array<{ offset: number; at: number }> = [];
    let epoch: string | undefined;
    for (let step = 0; step < 60; step++) {
      now += Math.floor(random() * 120);
      if (random() < 0.6) {
        const publication = store.append("t", "e", { step }, limits);
        if (epoch === undefined) epoch = publication.position.epoch;
        assert.equal(publication.position.epoch, epoch, `seed ${seed}: the epoch stays while the stream is in use`);
        assert.equal(publication.position.offset, published.length + 1, `seed ${seed}: offsets grow by one`);
        published.push({ offset: publication.position.offset, at: now });
        continue;
      }
      if (epoch === undefined) continue;
      const from = Math.floor(random() * (published.length + 1));
      const read = store.since("t", { epoch, offset: from }, limits);
      const missed = published.filter((p) => p.offset > from);
      const held = missed.every((p, i) => now - p.at <= limits.ttlMs && published.length - (from + i) <= limits.size);
      if (held) {
        assert.equal(read.kind, "complete", `seed ${seed} step ${step}: all ${missed.length} missed are held`);
        if (read.kind === "complete") assert.deepEqual(read.publications.map((p) => p.position.offset), missed.map((p) => p.offset));
      } else {
        assert.equal(read.kind, "gap", `seed ${seed} step ${step}: a gap is never answered with a partial replay`);
      }
      assert.equal(read.position.offset, published.length);
    }
    store.close();
  }
});

test("a position from another epoch or from the future is a gap", () => {
  const store = new MemoryHistory();
  const limits = { size: 10, ttlMs: 60_000 };
  const { position } = store.append("t", "e", 1, limits);
  assert.equal(store.since("t", { epoch: "other", offset: 0 }, limits).kind, "gap");
  assert.equal(store.since("t", { epoch: position.epoch, offset: 5 }, limits).kind, "gap");
  const read = store.since("t", { epoch: position.epoch, offset: 1 }, limits);
  assert.deepEqual(read, { kind: "complete", publications: [], position });
  store.close();
});

test("a stream idle for longer than its TTL is forgotten and starts again with a new epoch", () => {
  let now = 0;
  const store = new MemoryHistory({ now: () => now });
  const limits = { size: 10, ttlMs: 1_000 };
  const first = store.append("t", "e", 1, limits).position;
  now += 1_001;
  const second = store.append("t", "e", 2, limits).position;
  assert.notEqual(second.epoch, first.epoch);
  assert.equal(second.offset, 1);
  assert.equal(store.since("t", first, limits).kind, "gap");
  store.close();
});

test("last(n) gives the n most recent publications, oldest first, within the size bound", () => {
  const store = new MemoryHistory();
  const limits = { size: 5, ttlMs: 60_000 };
  for (let i = 1; i <= 8; i++) store.append("t", "e", i, limits);
  const read = store.last("t", 3, limits);
  assert.equal(read.kind, "complete");
  if (read.kind === "complete") assert.deepEqual(read.publications.map((p) => p.payload), [6, 7, 8]);
  const all = store.last("t", 100, limits);
  if (all.kind === "complete") assert.deepEqual(all.publications.map((p) => p.payload), [4, 5, 6, 7, 8]);
  assert.equal(store.publicationCount, 5);
  store.close();
});
