import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { type Diff, type Meta, type TrackerData, TrackerState, decodeData } from "../src/presence/state.js";
import { splitState } from "../src/presence/wire.js";

// ------------------------------------------------------------------ simulated cluster

const TOPICS = ["room:1", "room:2", "__proto__"] as const;
const KEYS = ["alice", "bob", "__proto__", "constructor"] as const;

type Cmd =
  | { t: "join" | "leave" | "update"; r: number; o: number; topic: number; key: number }
  | { t: "leaveOwner"; r: number; o: number }
  | { t: "flush"; r: number }
  | { t: "transfer"; from: number; to: number }
  | { t: "deliver"; i: number; dup: boolean }
  | { t: "drop"; i: number }
  | { t: "down" | "up"; r: number; of: number };

const idx = fc.nat(3);
const cmdArb: fc.Arbitrary<Cmd> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ t: fc.constant("join" as const), r: idx, o: fc.nat(2), topic: fc.nat(2), key: fc.nat(3) }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant("leave" as const), r: idx, o: fc.nat(2), topic: fc.nat(2), key: fc.nat(3) }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant("update" as const), r: idx, o: fc.nat(2), topic: fc.nat(2), key: fc.nat(3) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("leaveOwner" as const), r: idx, o: fc.nat(2) }) },
  { weight: 4, arbitrary: fc.record({ t: fc.constant("flush" as const), r: idx }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant("transfer" as const), from: idx, to: idx }) },
  { weight: 8, arbitrary: fc.record({ t: fc.constant("deliver" as const), i: fc.nat(1000), dup: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant("drop" as const), i: fc.nat(1000) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("down" as const), r: idx, of: idx }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("up" as const), r: idx, of: idx }) },
);

/** What goes over the (lossy, duplicating, reordering) network: JSON text, decoded on receipt. */
interface Msg {
  to: number;
  json: string;
}

function receive(json: string): TrackerData {
  return decodeData(JSON.parse(json));
}

/** Visible content of a state as a set of "topic␁key␁phx_ref" strings (refs are unique). */
function visible(s: TrackerState): Set<string> {
  const out = new Set<string>();
  for (const topic of s.topics()) {
    for (const e of s.entries(topic)) out.add(`${e.topic}\u0001${e.key}\u0001${String(e.meta["phx_ref"])}`);
  }
  return out;
}

/** list(topic) for every topic, with metas sorted (insertion order differs between replicas). */
function canonicalLists(s: TrackerState): string {
  const out: Array<[string, Array<[string, string[]]>]> = [];
  for (const topic of [...TOPICS].sort()) {
    const keys = [...s.list(topic)].map(([k, ms]): [string, string[]] => [k, ms.map((m) => JSON.stringify(m)).sort()]);
    keys.sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
    out.push([topic, keys]);
  }
  return JSON.stringify(out);
}

/** Full canonical snapshot: replica statuses, contexts, clouds, all values (hidden too), lists. */
function snapshot(s: TrackerState): string {
  const reps = s.replicas().sort((x, y) => (x.key < y.key ? -1 : 1));
  const data = s.extract("observer", new Map(reps.map((r) => [r.key, 0])));
  const replicas = data.replicas.map((r) => [r[0], r[1], r[2], [...r[3]].sort((x, y) => x - y)]);
  const values = data.values.map((v) => JSON.stringify([data.replicas[v[0]]![0], ...v.slice(1)])).sort();
  return JSON.stringify({ reps, replicas: replicas.sort(), values, lists: canonicalLists(s) });
}

/** Deterministic shuffle driven by a seed (mulberry32). */
function shuffled<T>(items: readonly T[], seed: number): T[] {
  let x = seed >>> 0;
  const rnd = (): number => {
    x = (x + 0x6d2b79f5) >>> 0;
    let t = x;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** Coverage counters, to make sure the generators reach the interesting paths. */
const stats = { mergeJoins: 0, mergeLeaves: 0, dead: 0, antiEntropyMerges: 0, hiddenLeaves: 0 };

class Sim {
  readonly states: TrackerState[] = [];
  /** Per replica: its own live entries, "owner␁topic␁key" → meta (the oracle). */
  readonly model: Array<Map<string, Meta>> = [];
  readonly net: Msg[] = [];
  /** Every message ever sent, for late replays. */
  readonly archive: Msg[] = [];
  /** Dots removed by local ops: "replicaKey␁counter" → [replicaKey, counter]. */
  readonly removed = new Map<string, [string, number]>();
  /** Removed dots that every replica has observed as removed. */
  readonly dead = new Set<string>();
  private refSeq = 0;

  constructor(readonly n: number) {
    for (let i = 0; i < n; i++) {
      this.states.push(new TrackerState({ name: `node${i}`, vsn: "v1" }));
      this.model.push(new Map());
    }
    for (const s of this.states) for (const other of this.states) s.replicaUp(other.replica);
  }

  owner(r: number, o: number): string {
    return `node${r}/chan${o}`;
  }

  /** Apply `fn` (which mutates replica r) and check that the returned diff is exact. */
  step(r: number, fn: (s: TrackerState) => Diff): Diff {
    const s = this.states[r]!;
    const before = visible(s);
    const diff = fn(s);
    const expected = new Set(before);
    const id = (e: Diff["joins"][number]): string => `${e.topic}\u0001${e.key}\u0001${String(e.meta["phx_ref"])}`;
    for (const e of diff.leaves) {
      assert.ok(expected.delete(id(e)), `leave of an entry that was not visible: ${id(e)}`);
    }
    for (const e of diff.joins) {
      assert.ok(!expected.has(id(e)), `join of a visible entry: ${id(e)}`);
      expected.add(id(e));
    }
    assert.deepEqual(visible(s), expected, "diff must describe the change exactly");
    return diff;
  }

  send(to: number, data: TrackerData): void {
    const msg = { to, json: JSON.stringify(data) };
    this.net.push(msg);
    this.archive.push(msg);
  }

  /** Merge into replica r, checking the diff and that r's own entries survive. */
  merge(r: number, data: TrackerData): Diff {
    const s = this.states[r]!;
    const diff = this.step(r, (st) => st.merge(data));
    for (const e of diff.leaves) assert.notEqual(e.replica, s.key, "own entry removed by a merge");
    stats.mergeJoins += diff.joins.length;
    stats.mergeLeaves += diff.leaves.length;
    return diff;
  }

  run(c: Cmd): void {
    const n = this.n;
    switch (c.t) {
      case "join": case "leave": case "update": {
        const r = c.r % n;
        const owner = this.owner(r, c.o), topic = TOPICS[c.topic]!, key = KEYS[c.key]!;
        const mk = `${owner}\u0001${topic}\u0001${key}`;
        const model = this.model[r]!;
        const had = model.get(mk);
        const ref = `ref${++this.refSeq}`;
        if (c.t === "join") {
          const meta = { phx_ref: ref, node: r };
          this.step(r, (s) => {
            const res = s.join(owner, topic, key, meta);
            assert.equal(res.ok, had === undefined);
            return res.ok ? res.diff : { joins: [], leaves: [] };
          });
          if (had === undefined) model.set(mk, meta);
        } else if (c.t === "leave") {
          const diff = this.step(r, (s) => s.leave(owner, topic, key));
          assert.equal(diff.leaves.length, had === undefined ? 0 : 1);
          this.noteRemoved(diff);
          model.delete(mk);
        } else {
          const meta = { phx_ref: ref, phx_ref_prev: had?.["phx_ref"] ?? null, node: r };
          const diff = this.step(r, (s) => {
            const res = s.update(owner, topic, key, meta);
            assert.equal(res.ok, had !== undefined);
            return res.ok ? res.diff : { joins: [], leaves: [] };
          });
          this.noteRemoved(diff);
          if (had !== undefined) model.set(mk, meta);
        }
        break;
      }
      case "leaveOwner": {
        const r = c.r % n;
        const owner = this.owner(r, c.o);
        const model = this.model[r]!;
        const mine = [...model.keys()].filter((k) => k.startsWith(`${owner}\u0001`));
        const diff = this.step(r, (s) => s.leaveOwner(owner));
        assert.equal(diff.leaves.length, mine.length);
        this.noteRemoved(diff);
        for (const k of mine) model.delete(k);
        break;
      }
      case "flush": {
        const r = c.r % n;
        const d = this.states[r]!.takeDelta();
        if (d !== null) for (let to = 0; to < n; to++) if (to !== r) this.send(to, d);
        break;
      }
      case "transfer": {
        const from = c.from % n, to = c.to % n;
        if (from === to) break;
        const req = this.states[to]!;
        this.send(to, this.states[from]!.extract(req.key, req.clock()));
        break;
      }
      case "deliver": {
        if (this.net.length === 0) break;
        const i = c.i % this.net.length;
        const msg = this.net[i]!;
        if (!c.dup) this.net.splice(i, 1);
        this.merge(msg.to, receive(msg.json));
        break;
      }
      case "drop":
        if (this.net.length > 0) this.net.splice(c.i % this.net.length, 1);
        break;
      case "down": case "up": {
        const r = c.r % n, of = c.of % n;
        const target = this.states[of]!.replica;
        const diff = this.step(r, (s) => (c.t === "down" ? s.replicaDown(target) : s.replicaUp(target)));
        if (r === of) assert.deepEqual(diff, { joins: [], leaves: [] });
        if (c.t === "down") stats.hiddenLeaves += diff.leaves.length;
        break;
      }
    }
    this.checkInvariants();
  }

  noteRemoved(diff: Diff): void {
    for (const e of diff.leaves) this.removed.set(`${e.replica}\u0001${e.counter}`, [e.replica, e.counter]);
  }

  checkInvariants(): void {
    for (let r = 0; r < this.n; r++) {
      const s = this.states[r]!;
      // Own entries are exactly the model.
      let own = 0;
      for (let o = 0; o < 3; o++) own += s.ownerEntries(this.owner(r, o)).length;
      assert.equal(own, this.model[r]!.size);
      for (const [mk, meta] of this.model[r]!) {
        const [owner, topic, key] = mk.split("\u0001") as [string, string, string];
        assert.deepEqual(s.getLocal(owner, topic, key), meta);
      }
      // Counts and keys agree with lists.
      for (const topic of TOPICS) {
        const list = s.list(topic);
        assert.equal(s.countKeys(topic), list.size);
        assert.deepEqual(s.keys(topic), [...list.keys()]);
        assert.equal(s.countMetas(topic), [...list.values()].reduce((a, ms) => a + ms.length, 0));
        assert.equal(s.topics().includes(topic), list.size > 0);
      }
    }
    // Observed removes are never resurrected.
    for (const [id, [rk, c]] of this.removed) {
      if (this.dead.has(id)) continue;
      if (this.states.every((s) => s.covers(rk, c) && s.valueAt(rk, c) === undefined)) {
        this.dead.add(id);
        stats.dead++;
      }
    }
    for (const id of this.dead) {
      const [rk, c] = this.removed.get(id)!;
      for (const s of this.states) assert.equal(s.valueAt(rk, c), undefined, `resurrected ${id}`);
    }
  }

  /** What heartbeats + clock sampling + transfers do once the network is healthy again. */
  antiEntropy(): void {
    for (let r = 0; r < this.n; r++) for (const other of this.states) this.step(r, (s) => s.replicaUp(other.replica));
    for (let round = 0; ; round++) {
      assert.ok(round < 10, "anti-entropy does not terminate");
      let requests = 0;
      for (let r = 0; r < this.n; r++) {
        const s = this.states[r]!;
        const clocks = this.states.filter((o) => o !== s).map((o) => [o.key, o.clock()] as const);
        for (const target of s.transferTargets(clocks)) {
          requests++;
          stats.antiEntropyMerges++;
          const from = this.states.find((o) => o.key === target)!;
          this.merge(r, receive(JSON.stringify(from.extract(s.key, s.clock()))));
          this.checkInvariants();
        }
      }
      if (requests === 0) break;
    }
  }

  /** The union of every replica's own live entries, canonical like `canonicalLists`. */
  expectedLists(): string {
    const lists = new Map<string, Map<string, string[]>>();
    for (const m of this.model) {
      for (const [mk, meta] of m) {
        const [, topic, key] = mk.split("\u0001") as [string, string, string];
        let t = lists.get(topic);
        if (t === undefined) lists.set(topic, (t = new Map()));
        t.set(key, [...(t.get(key) ?? []), JSON.stringify(meta)]);
      }
    }
    const out: Array<[string, Array<[string, string[]]>]> = [];
    for (const topic of [...TOPICS].sort()) {
      const keys = [...(lists.get(topic) ?? new Map<string, string[]>())].map(([k, ms]): [string, string[]] => [k, ms.sort()]);
      keys.sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
      out.push([topic, keys]);
    }
    return JSON.stringify(out);
  }
}

// ------------------------------------------------------------------ properties

test("replicas converge under loss, duplication and reordering; removes are never resurrected", () => {
  fc.assert(
    fc.property(fc.integer({ min: 3, max: 4 }), fc.array(cmdArb, { minLength: 5, maxLength: 100, size: "max" }), fc.integer(), (n, cmds, seed) => {
      const sim = new Sim(n);
      for (const c of cmds) sim.run(c);
      sim.antiEntropy();
      const expected = sim.expectedLists();
      for (const s of sim.states) assert.equal(canonicalLists(s), expected);
      const clocks = sim.states.map((s) => JSON.stringify([...s.clock()].sort()));
      assert.ok(clocks.every((c) => c === clocks[0]), "clocks agree");
      // Late replay of every old delta and state, in any order, changes nothing.
      for (const msg of shuffled(sim.archive, seed)) {
        for (let r = 0; r < n; r++) {
          const diff = sim.merge(r, receive(msg.json));
          assert.deepEqual(diff, { joins: [], leaves: [] }, "stale data changed a converged replica");
        }
      }
      sim.checkInvariants();
      for (const s of sim.states) assert.equal(canonicalLists(s), expected);
    }),
    { seed: 0x5eed, numRuns: 1000 },
  );
  // The generator must actually exercise remote joins/leaves, downs, anti-entropy and deaths.
  for (const [k, v] of Object.entries(stats)) assert.ok(v > 400, `too little coverage: ${k} = ${v}`);
});

/** Run a scenario, then pick archived messages by index (a scenario is deterministic). */
function scenario(n: number, cmds: readonly Cmd[]): Sim {
  const sim = new Sim(n);
  for (const c of cmds) sim.run(c);
  // Make sure there is something to merge: flush everyone and add transfers.
  for (let r = 0; r < n; r++) sim.run({ t: "flush", r });
  sim.run({ t: "transfer", from: 0, to: 1 });
  sim.run({ t: "transfer", from: 1, to: 2 });
  return sim;
}

const scenarioArb = fc.tuple(fc.integer({ min: 3, max: 4 }), fc.array(cmdArb, { maxLength: 60, size: "max" }));

test("merge is idempotent: merging the same data twice equals merging it once", () => {
  fc.assert(
    fc.property(scenarioArb, fc.nat(), fc.nat(3), ([n, cmds], pick, target) => {
      const once = scenario(n, cmds);
      const twice = scenario(n, cmds);
      const msg = once.archive[pick % once.archive.length]!;
      const r = target % n;
      once.merge(r, receive(msg.json));
      twice.merge(r, receive(msg.json));
      const again = twice.merge(r, receive(msg.json));
      assert.deepEqual(again, { joins: [], leaves: [] });
      assert.equal(snapshot(twice.states[r]!), snapshot(once.states[r]!));
      assert.deepEqual(twice.states[r]!.takeDelta(), once.states[r]!.takeDelta(), "same pending delta");
    }),
    { seed: 0x1de4, numRuns: 400 },
  );
});

test("merge is commutative: two data in either order give the same state", () => {
  fc.assert(
    fc.property(scenarioArb, fc.nat(), fc.nat(), fc.nat(3), ([n, cmds], p1, p2, target) => {
      const ab = scenario(n, cmds);
      const ba = scenario(n, cmds);
      const m1 = ab.archive[p1 % ab.archive.length]!.json;
      const m2 = ab.archive[p2 % ab.archive.length]!.json;
      const r = target % n;
      ab.merge(r, receive(m1));
      ab.merge(r, receive(m2));
      ba.merge(r, receive(m2));
      ba.merge(r, receive(m1));
      assert.equal(snapshot(ab.states[r]!), snapshot(ba.states[r]!));
    }),
    { seed: 0xc0, numRuns: 400 },
  );
});

test("a replica's own entries are never removed by merging arbitrary remote data", () => {
  // Remote data forged to claim it has seen (and dropped) every dot of the victim.
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.nat(2), fc.nat(3)), { maxLength: 20 }), fc.nat(50), (ops, claim) => {
      const victim = new TrackerState({ name: "victim", vsn: "1" });
      const other = new TrackerState({ name: "other", vsn: "1" });
      victim.replicaUp(other.replica);
      other.replicaUp(victim.replica);
      let ref = 0;
      for (const [topic, key] of ops) {
        const owner = `victim/chan${key}`;
        if (victim.getLocal(owner, TOPICS[topic]!, KEYS[key]!) === undefined) {
          victim.join(owner, TOPICS[topic]!, KEYS[key]!, { phx_ref: `r${++ref}` });
        } else victim.leave(owner, TOPICS[topic]!, KEYS[key]!);
      }
      const before = visible(victim);
      const forged: TrackerData = {
        v: 1, kind: "state", from: ["other", "1"], range: null, values: [],
        replicas: [["victim", "1", claim, [claim + 2, claim + 5]], ["other", "1", 0, []]],
      };
      const delta: TrackerData = { ...forged, kind: "delta", range: [0, claim], replicas: [["victim", "1", 0, [1, 2, 3]]] };
      const forgedSender: TrackerData = { ...delta, from: ["victim", "1"] };
      for (const d of [forged, delta, forgedSender]) {
        assert.deepEqual(victim.merge(decodeData(JSON.parse(JSON.stringify(d)))), { joins: [], leaves: [] });
      }
      assert.deepEqual(visible(victim), before);
    }),
    { seed: 0x0e, numRuns: 300 },
  );
});

test("a full state split by replica (splitState) merges, in either order, to what the whole state merges to", () => {
  let checked = 0;
  fc.assert(
    fc.property(scenarioArb, fc.nat(), fc.nat(3), fc.nat(15), ([n, cmds], pick, target, mask) => {
      const whole = scenario(n, cmds);
      const states = whole.archive.filter((m) => receive(m.json).kind === "state");
      if (states.length === 0) return;
      checked++;
      const json = states[pick % states.length]!.json;
      const r = target % n;
      const [picked, rest] = splitState(receive(json), (_replica) => false);
      assert.equal(picked.replicas.length, 0, "a predicate that picks nothing leaves the first part empty");
      assert.equal(rest.values.length, receive(json).values.length);
      let i = 0;
      const [a, b] = splitState(receive(json), () => ((mask >> (i++ % 4)) & 1) === 1);
      const forward = scenario(n, cmds);
      const backward = scenario(n, cmds);
      whole.merge(r, receive(json));
      forward.merge(r, a);
      forward.merge(r, b);
      backward.merge(r, b);
      backward.merge(r, a);
      assert.equal(snapshot(forward.states[r]!), snapshot(whole.states[r]!));
      assert.equal(snapshot(backward.states[r]!), snapshot(whole.states[r]!));
    }),
    { seed: 0x5b1d, numRuns: 300 },
  );
  assert.ok(checked > 50, `enough scenarios held a full state (${checked})`);
});
