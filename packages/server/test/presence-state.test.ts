import { test } from "node:test";
import assert from "node:assert/strict";
import {
  type Diff, type Meta, type TrackerData, TrackerState, TrackerDataError, ReplicaError, decodeClock, decodeData,
  dominates, encodeClock, parseReplicaKey, replicaKey, selectTransferTargets,
} from "../src/presence/state.js";

const A = { name: "a@host", vsn: "1" };
const B = { name: "b@host", vsn: "1" };
const C = { name: "c@host", vsn: "1" };

function refs(metas: readonly Meta[]): unknown[] {
  return metas.map((m) => m["phx_ref"]);
}

function summary(diff: Diff): { joins: string[]; leaves: string[] } {
  const f = (es: Diff["joins"]): string[] => es.map((e) => `${e.topic}/${e.key}/${String(e.meta["phx_ref"])}`);
  return { joins: f(diff.joins), leaves: f(diff.leaves) };
}

function wire(data: TrackerData): TrackerData {
  return decodeData(JSON.parse(JSON.stringify(data)));
}

/** Three replicas that know each other. */
function cluster(): [TrackerState, TrackerState, TrackerState] {
  const a = new TrackerState(A), b = new TrackerState(B), c = new TrackerState(C);
  for (const s of [a, b, c]) for (const r of [A, B, C]) s.replicaUp(r);
  return [a, b, c];
}

test("join reports a join, list/get/counts see it", () => {
  const a = new TrackerState(A);
  const r = a.join("o1", "room:1", "u1", { phx_ref: "r1", x: 1 });
  assert.ok(r.ok);
  assert.deepEqual(summary(r.diff), { joins: ["room:1/u1/r1"], leaves: [] });
  assert.equal(r.diff.joins[0]!.owner, "o1");
  assert.equal(r.diff.joins[0]!.replica, replicaKey(A));
  a.join("o2", "room:1", "u1", { phx_ref: "r2" });
  a.join("o2", "room:1", "u2", { phx_ref: "r3" });
  assert.deepEqual([...a.list("room:1").entries()].map(([k, ms]) => [k, refs(ms)]), [["u1", ["r1", "r2"]], ["u2", ["r3"]]]);
  assert.deepEqual(refs(a.get("room:1", "u1")), ["r1", "r2"]);
  assert.deepEqual(a.get("room:1", "nobody"), []);
  assert.equal(a.countKeys("room:1"), 2);
  assert.equal(a.countMetas("room:1"), 3);
  assert.deepEqual(a.topics(), ["room:1"]);
  assert.equal(a.list("other").size, 0);
});

test("duplicate join of the same (owner, topic, key) is refused", () => {
  const a = new TrackerState(A);
  assert.ok(a.join("o1", "t", "k", { phx_ref: "r1" }).ok);
  assert.deepEqual(a.join("o1", "t", "k", { phx_ref: "r2" }), { ok: false, error: "already_tracked" });
  assert.ok(a.join("o1", "t", "k2", { phx_ref: "r3" }).ok);
  assert.ok(a.join("o1", "t2", "k", { phx_ref: "r4" }).ok);
  assert.equal(a.countMetas("t"), 2);
});

test("leave reports the leave; leaving something absent is an empty diff", () => {
  const a = new TrackerState(A);
  a.join("o1", "t", "k", { phx_ref: "r1" });
  assert.deepEqual(summary(a.leave("o1", "t", "k")), { joins: [], leaves: ["t/k/r1"] });
  assert.deepEqual(summary(a.leave("o1", "t", "k")), { joins: [], leaves: [] });
  assert.equal(a.countMetas("t"), 0);
  assert.deepEqual(a.topics(), []);
  assert.ok(a.join("o1", "t", "k", { phx_ref: "r2" }).ok, "can join again after leaving");
});

test("update replaces the meta with a leave+join diff; update of a missing entry is refused", () => {
  const a = new TrackerState(A);
  assert.deepEqual(a.update("o1", "t", "k", { phx_ref: "r1" }), { ok: false, error: "nopresence" });
  a.join("o1", "t", "k", { phx_ref: "r1", s: "away" });
  a.join("o2", "t", "k", { phx_ref: "r2" });
  const r = a.update("o1", "t", "k", { phx_ref: "r3", phx_ref_prev: "r1", s: "here" });
  assert.ok(r.ok);
  assert.deepEqual(summary(r.diff), { joins: ["t/k/r3"], leaves: ["t/k/r1"] });
  assert.ok(r.diff.joins[0]!.counter > r.diff.leaves[0]!.counter, "new dot");
  assert.deepEqual(refs(a.get("t", "k")), ["r2", "r3"]);
  assert.deepEqual(a.getLocal("o1", "t", "k"), { phx_ref: "r3", phx_ref_prev: "r1", s: "here" });
  assert.equal(a.countMetas("t"), 2);
});

test("leaveOwner removes every entry of the owner and nothing else", () => {
  const a = new TrackerState(A);
  a.join("o1", "t1", "k", { phx_ref: "r1" });
  a.join("o1", "t2", "k", { phx_ref: "r2" });
  a.join("o2", "t1", "k", { phx_ref: "r3" });
  assert.deepEqual(a.ownerEntries("o1").map((e) => e.meta["phx_ref"]), ["r1", "r2"]);
  assert.deepEqual(summary(a.leaveOwner("o1")), { joins: [], leaves: ["t1/k/r1", "t2/k/r2"] });
  assert.deepEqual(summary(a.leaveOwner("o1")), { joins: [], leaves: [] });
  assert.deepEqual(a.topics(), ["t1"]);
  assert.deepEqual(refs(a.get("t1", "k")), ["r3"]);
  assert.deepEqual(a.ownerEntries("o1"), []);
});

test("metas are copied and frozen; list results are fresh", () => {
  const a = new TrackerState(A);
  const meta = { phx_ref: "r1", n: 1 };
  a.join("o", "t", "k", meta);
  meta.n = 2;
  const got = a.get("t", "k")[0]!;
  assert.equal(got["n"], 1);
  assert.ok(Object.isFrozen(got));
  a.list("t").get("k")!.push({ phx_ref: "x" });
  a.get("t", "k").length = 0;
  assert.equal(a.countMetas("t"), 1);
  assert.equal(a.get("t", "k").length, 1);
});

test("__proto__ and friends are ordinary topics, keys, owners and meta keys", () => {
  const a = new TrackerState(A);
  const b = new TrackerState(B);
  a.replicaUp(B);
  b.replicaUp(A);
  const meta = JSON.parse('{"phx_ref":"r1","__proto__":{"polluted":true}}') as Meta;
  assert.ok(a.join("__proto__", "__proto__", "__proto__", meta).ok);
  assert.ok(a.join("constructor", "__proto__", "constructor", { phx_ref: "r2" }).ok);
  b.merge(wire(a.takeDelta()!));
  for (const s of [a, b]) {
    assert.deepEqual([...s.list("__proto__").keys()], ["__proto__", "constructor"]);
    const m = s.get("__proto__", "__proto__")[0]!;
    assert.ok(Object.hasOwn(m, "__proto__"));
    assert.equal((({}) as Record<string, unknown>)["polluted"], undefined);
    assert.equal(s.countKeys("__proto__"), 2);
  }
});

test("a delta carries joins, leaves and updates to another replica", () => {
  const [a, b] = cluster();
  a.join("o1", "t", "k1", { phx_ref: "r1" });
  a.join("o2", "t", "k2", { phx_ref: "r2" });
  assert.deepEqual(summary(b.merge(wire(a.takeDelta()!))), { joins: ["t/k1/r1", "t/k2/r2"], leaves: [] });
  assert.equal(a.takeDelta(), null, "delta was reset");
  a.leave("o1", "t", "k1");
  a.update("o2", "t", "k2", { phx_ref: "r3", phx_ref_prev: "r2" });
  a.join("o3", "t", "k3", { phx_ref: "r4" });
  a.leave("o3", "t", "k3"); // added and removed in the same period
  const d = a.takeDelta()!;
  assert.deepEqual(d.values.map((v) => v[5]["phx_ref"]), ["r3"]);
  assert.deepEqual(summary(b.merge(wire(d))), { joins: ["t/k2/r3"], leaves: ["t/k1/r1", "t/k2/r2"] });
  assert.deepEqual(summary(b.merge(wire(d))), { joins: [], leaves: [] }, "idempotent");
  assert.deepEqual(b.list("t"), a.list("t"));
  assert.deepEqual(b.clock(), a.clock().set(b.key, 0).set(replicaKey(C), 0));
});

test("merges never remove a replica's own entries", () => {
  const [a, b] = cluster();
  a.join("o1", "t", "k", { phx_ref: "r1" });
  b.merge(a.takeDelta()!);
  // B claims to have seen A's dots 1..100 and holds none of A's values.
  const forged: TrackerData = {
    v: 1, kind: "state", from: [B.name, B.vsn], range: null, values: [],
    replicas: [[A.name, A.vsn, 100, [101, 102]]],
  };
  assert.deepEqual(summary(a.merge(forged)), { joins: [], leaves: [] });
  assert.deepEqual(refs(a.get("t", "k")), ["r1"]);
  assert.deepEqual(summary(b.merge(forged)), { joins: [], leaves: ["t/k/r1"] }, "others do observe the remove");
});

test("a full state removes exactly the values whose dots it covers but lacks", () => {
  const [a, b] = cluster();
  for (let i = 1; i <= 4; i++) a.join(`o${i}`, "t", "k", { phx_ref: `r${i}` });
  b.merge(a.takeDelta()!);
  // Remote knowledge of A: dots 1..2 (holding only dot 1) and dot 4 in the cloud (not held).
  const state: TrackerData = {
    v: 1, kind: "state", from: [C.name, C.vsn], range: null,
    replicas: [[A.name, A.vsn, 2, [4]]],
    values: [[0, 1, "o1", "t", "k", { phx_ref: "r1" }]],
  };
  assert.deepEqual(summary(b.merge(wire(state))), { joins: [], leaves: ["t/k/r2", "t/k/r4"] });
  assert.deepEqual(refs(b.get("t", "k")), ["r1", "r3"]);
  // The same through a delta: cloud dots and the sender's range count as observed.
  const [, b2] = cluster();
  b2.merge(a.extract(b2.key, b2.clock()));
  const delta: TrackerData = {
    v: 1, kind: "delta", from: [A.name, A.vsn], range: [2, 3],
    replicas: [[A.name, A.vsn, 0, [1]]], values: [],
  };
  assert.deepEqual(summary(b2.merge(wire(delta))), { joins: [], leaves: ["t/k/r1", "t/k/r3"] });
  assert.deepEqual(refs(b2.get("t", "k")), ["r2", "r4"]);
});

test("values of unknown replicas are ignored", () => {
  const a = new TrackerState(A);
  const b = new TrackerState(B);
  b.replicaUp(A);
  b.join("o", "t", "k", { phx_ref: "r1" });
  assert.deepEqual(summary(a.merge(b.takeDelta()!)), { joins: [], leaves: [] });
  assert.equal(a.countMetas("t"), 0);
  a.replicaUp(B); // first heartbeat → known with counter 0
  assert.equal(a.clock().get(b.key), 0);
  assert.deepEqual(a.transferTargets([[b.key, b.clock()]]), [b.key]);
  assert.deepEqual(summary(a.merge(b.extract(a.key, a.clock()))), { joins: ["t/k/r1"], leaves: [] });
  assert.deepEqual(a.transferTargets([[b.key, b.clock()]]), []);
});

test("down hides a replica's values and reports leaves; up with the same vsn restores them", () => {
  const [a, b] = cluster();
  b.join("o1", "t", "k", { phx_ref: "r1" });
  b.join("o2", "t", "k2", { phx_ref: "r2" });
  a.join("o3", "t", "k", { phx_ref: "r3" });
  a.merge(b.takeDelta()!);
  assert.equal(a.countMetas("t"), 3);
  assert.deepEqual(summary(a.replicaDown(B)), { joins: [], leaves: ["t/k/r1", "t/k2/r2"] });
  assert.deepEqual(summary(a.replicaDown(B)), { joins: [], leaves: [] }, "already down");
  assert.equal(a.replicaStatus(B), "down");
  assert.deepEqual([...a.list("t").entries()].map(([k, ms]) => [k, refs(ms)]), [["k", ["r3"]]]);
  assert.equal(a.countKeys("t"), 1);
  assert.equal(a.countMetas("t"), 1);
  assert.equal(a.clock().has(b.key), false, "down replicas are not advertised");
  assert.ok(a.valueAt(B, 1) !== undefined, "retained");
  // Changes made while down are still merged, silently.
  b.leave("o2", "t", "k2");
  b.join("o4", "t", "k4", { phx_ref: "r4" });
  assert.deepEqual(summary(a.merge(b.takeDelta()!)), { joins: [], leaves: [] });
  assert.deepEqual(summary(a.replicaUp(B)), { joins: ["t/k/r1", "t/k4/r4"], leaves: [] });
  assert.deepEqual(refs(a.get("t", "k")), ["r3", "r1"], "original insertion order kept");
  assert.equal(a.countMetas("t"), 3);
  assert.equal(a.countKeys("t"), 2);
});

test("a new vsn for a known name permdowns the old replica", () => {
  const [a, b] = cluster();
  b.join("o1", "t", "k", { phx_ref: "r1" });
  a.merge(b.takeDelta()!);
  const B2 = { name: B.name, vsn: "2" };
  assert.deepEqual(summary(a.replicaUp(B2)), { joins: [], leaves: ["t/k/r1"] });
  assert.equal(a.replicaStatus(B), undefined);
  assert.equal(a.replicaStatus(B2), "up");
  assert.equal(a.countMetas("t"), 0);
  // Late data from the old incarnation is ignored.
  assert.deepEqual(summary(a.merge(b.extract(a.key, new Map([[b.key, 0]])))), { joins: [], leaves: [] });
  // When the old one was already down, its leaves are not reported twice.
  const c = new TrackerState(C);
  c.replicaUp(B);
  c.merge(b.extract(c.key, c.clock()));
  assert.equal(c.replicaDown(B).leaves.length, 1);
  assert.deepEqual(summary(c.replicaUp(B2)), { joins: [], leaves: [] });
  assert.equal(c.replicas().length, 2);
});

test("permdown deletes the values and forgets the replica", () => {
  const [a, b] = cluster();
  b.join("o1", "t", "k", { phx_ref: "r1" });
  a.merge(b.takeDelta()!);
  assert.deepEqual(summary(a.permdown(B)), { joins: [], leaves: ["t/k/r1"] }, "graceful: leaves reported");
  assert.equal(a.replicaStatus(B), undefined);
  assert.equal(a.valueAt(B, 1), undefined);
  assert.equal(a.clock().has(b.key), false);
  assert.deepEqual(a.permdown(A), { joins: [], leaves: [] }, "never ourselves");
  assert.deepEqual(a.replicaDown(A), { joins: [], leaves: [] }, "never ourselves");
  // After a down, permdown reports nothing more.
  const [c, d] = cluster();
  d.join("o", "t", "k", { phx_ref: "r2" });
  c.merge(d.takeDelta()!);
  assert.equal(c.replicaDown(B).leaves.length, 1);
  assert.deepEqual(summary(c.permdown(B)), { joins: [], leaves: [] });
  assert.equal(c.countMetas("t"), 0);
});

test("removals observed while merging are re-gossiped in the delta", () => {
  const [a, b, c] = cluster();
  a.join("o1", "t", "k", { phx_ref: "r1" });
  const d1 = a.takeDelta()!;
  b.merge(d1);
  c.merge(d1);
  a.leave("o1", "t", "k");
  b.merge(a.takeDelta()!); // c loses this delta
  const relay = b.takeDelta()!;
  assert.deepEqual(relay.values, []);
  assert.deepEqual(relay.replicas.find((r) => r[0] === A.name)?.[3], [1]);
  assert.deepEqual(summary(c.merge(wire(relay))), { joins: [], leaves: ["t/k/r1"] });
  assert.equal(b.takeDelta(), null, "remote adds are not re-gossiped");
});

test("a lost delta is repaired by clock sampling and a full-state transfer", () => {
  const [a, b] = cluster();
  a.join("o1", "t", "k1", { phx_ref: "r1" });
  b.merge(a.takeDelta()!);
  a.join("o2", "t", "k2", { phx_ref: "r2" });
  a.leave("o1", "t", "k1");
  a.takeDelta(); // lost
  a.join("o3", "t", "k3", { phx_ref: "r3" });
  assert.deepEqual(summary(b.merge(wire(a.takeDelta()!))), { joins: ["t/k3/r3"], leaves: [] });
  assert.ok(b.covers(A, 4) && !b.covers(A, 2) && !b.covers(A, 3), "gap in b's context");
  assert.equal(b.clock().get(a.key), 1);
  assert.deepEqual(b.transferTargets([[a.key, encodeDecode(a.clock())]]), [a.key]);
  const diff = b.merge(wire(a.extract(b.key, b.clock())));
  assert.deepEqual(summary(diff), { joins: ["t/k2/r2"], leaves: ["t/k1/r1"] });
  assert.equal(b.clock().get(a.key), a.clock().get(a.key));
  assert.deepEqual(b.transferTargets([[a.key, a.clock()]]), []);
  assert.deepEqual(new Set(b.get("t", "k2").concat(b.get("t", "k3")).map((m) => m["phx_ref"])), new Set(["r2", "r3"]));
});

function encodeDecode(clock: Map<string, number>): Map<string, number> {
  return decodeClock(JSON.parse(JSON.stringify(encodeClock(clock))));
}

test("replica keys and clocks", () => {
  assert.equal(replicaKey(A), "a@host\u00001");
  assert.deepEqual(parseReplicaKey(replicaKey({ name: "n", vsn: "x\u0000y" })), { name: "n", vsn: "x\u0000y" });
  assert.throws(() => replicaKey({ name: "a\u0000b", vsn: "1" }), ReplicaError);
  assert.throws(() => new TrackerState({ name: "a\u0000", vsn: "1" }), ReplicaError);
  const c1 = new Map([["a", 2], ["b", 1]]);
  const c2 = new Map([["a", 2]]);
  assert.ok(dominates(c1, c2) && !dominates(c2, c1));
  assert.ok(dominates(c2, c1, new Set(["a"])));
  assert.ok(dominates(c1, new Map(c1)));
  // Sampling: x is behind us, y and z ahead; z dominates y, so only z is asked.
  const own = new Map([["self", 5], ["x", 3], ["y", 3], ["z", 3]]);
  const remotes: Array<[string, Map<string, number>]> = [
    ["x", new Map([["x", 3], ["self", 2]])],
    ["y", new Map([["y", 4], ["self", 5]])],
    ["z", new Map([["y", 4], ["z", 6], ["self", 5], ["unknown", 99]])],
    ["w", new Map([["w", 7]])], // unknown to us: skipped
  ];
  assert.deepEqual(selectTransferTargets(own, "self", remotes), ["z"]);
  // Equal clocks: the first one is kept.
  assert.deepEqual(selectTransferTargets(own, "self", [["y", new Map([["x", 9]])], ["z", new Map([["x", 9]])]]), ["y"]);
  assert.deepEqual(encodeDecode(new Map([[replicaKey(A), 3]])), new Map([[replicaKey(A), 3]]));
  assert.throws(() => decodeClock([["a", "1", -1]]), ReplicaError);
  assert.throws(() => decodeClock([["a", "1", 1], ["a", "1", 2]]), /duplicate/);
  assert.throws(() => decodeClock({}), ReplicaError);
});

test("decodeData validates network input", () => {
  const a = new TrackerState(A);
  a.join("o", "t", "k", { phx_ref: "r" });
  const good = JSON.parse(JSON.stringify(a.takeDelta())) as Record<string, unknown>;
  assert.doesNotThrow(() => decodeData(good));
  const bad = (patch: Record<string, unknown>): unknown => ({ ...good, ...patch });
  const cases: unknown[] = [
    null, [], "x", bad({ v: 2 }), bad({ kind: "nope" }), bad({ from: ["a"] }), bad({ from: ["a\u0000", "1"] }),
    bad({ range: null }), bad({ range: [3, 1] }), bad({ range: [0, 1e12] }), bad({ kind: "state" }),
    bad({ replicas: {} }), bad({ replicas: [["a", "1", 0]] }), bad({ replicas: [["a", "1", 1, []]] }),
    bad({ replicas: [["a", "1", 0, [0]]] }), bad({ replicas: [["a", "1", 0, []], ["a", "1", 0, []]] }),
    bad({ replicas: [["a", "1", 0, [1.5]]] }),
    bad({ values: [[1, 1, "o", "t", "k", {}]] }), bad({ values: [[0, 0, "o", "t", "k", {}]] }),
    bad({ values: [[0, 1, "o", 5, "k", {}]] }), bad({ values: [[0, 1, "o", "t", "k", []]] }),
    bad({ values: [[0, 1, "o", "t", "k", null]] }), bad({ values: [[0, 1, "o", "t", "k"]] }),
    bad({ values: [[0, 1, "o", "t", "k", {}], [0, 1, "o", "t", "k2", {}]] }),
  ];
  for (const c of cases) assert.throws(() => decodeData(c), TrackerDataError, JSON.stringify(c));
  assert.throws(() => decodeData(bad({ v: 2 })), /invalid tracker data: unsupported version 2/);
});

test("10,000 members on one topic: big deltas of joins, leaves and updates merge to the same state", () => {
  const [a, b] = cluster();
  for (let i = 0; i < 10_000; i++) a.join(`o${i}`, "big", `u${i}`, { phx_ref: `r${i}` });
  for (let i = 0; i < 10_000; i += 2) a.leave(`o${i}`, "big", `u${i}`);
  b.merge(wire(a.takeDelta()!));
  for (let i = 1; i < 10_000; i += 2) a.update(`o${i}`, "big", `u${i}`, { phx_ref: `s${i}` });
  b.merge(wire(a.takeDelta()!));
  assert.equal(b.countMetas("big"), 5_000);
  assert.deepEqual(b.list("big"), a.list("big"));
});
