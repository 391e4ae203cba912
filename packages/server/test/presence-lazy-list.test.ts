/**
 * The list `handleMetas` receives is built at its first read and only then: a hook that reads
 * only the diff costs no copy of the topic, and one that reads gets the topic's key → metas.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { LazyList } from "../src/presence/lazy-list.js";
import type { Meta } from "../src/presence/wire.js";

const meta = (ref: string): Meta => ({ phx_ref: ref });

test("LazyList: built once, at the first read; reads as the map it was built from", () => {
  let builds = 0;
  const source = new Map([["amy", [meta("1"), meta("2")]], ["bo", [meta("3")]]]);
  const list = new LazyList(() => { builds++; return new Map(source); });
  assert.equal(builds, 0, "nothing built before a read");
  assert.equal(list.size, 2);
  assert.equal(builds, 1);
  assert.deepEqual(list.get("amy"), [meta("1"), meta("2")]);
  assert.equal(list.get("cy"), undefined);
  assert.equal(list.has("bo"), true);
  assert.deepEqual([...list.keys()], ["amy", "bo"]);
  assert.deepEqual([...list.values()].map((metas) => metas.length), [2, 1]);
  assert.deepEqual([...list], [...source]);
  assert.deepEqual([...list.entries()], [...source]);
  const seen: string[] = [];
  list.forEach(function (this: unknown, metas, key, map) {
    assert.equal(map, list);
    assert.equal(this, "ctx");
    seen.push(`${key}:${metas.length}`);
  }, "ctx");
  assert.deepEqual(seen, ["amy:2", "bo:1"]);
  assert.equal(builds, 1, "later reads reuse the first build");
});
