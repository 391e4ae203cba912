/**
 * Presence tracker state: a delta-state observed-remove set with dots (pure, deterministic).
 *
 * Model
 * - Every replica (`{name, vsn}`, see `clock.ts`) owns a counter. Each local *add* consumes a
 *   fresh counter value: the value's *dot* `(replica, counter)` identifies it cluster-wide.
 *   Values are keyed by (topic, owner, key) with a JSON `meta`; only the owning replica ever
 *   removes its values (local `leave` / `leaveOwner` / `update`), and every local op that
 *   removes something also consumes a counter value, so clocks move and lost removals are
 *   noticed by clock sampling.
 * - The *causal context* records, per known replica, every dot observed (added or removed):
 *   a contiguous counter `context` (1..context seen) plus a *cloud* of dots seen beyond it.
 *   Clouds are compacted eagerly: a dot contiguous with the context is folded into it.
 * - *Observed remove*: a dot covered by a replica's context but absent from its values has
 *   been removed. Merging remote data therefore (a) adds a remote value iff its replica is
 *   known here and its dot is not yet covered here (a removed dot is never re-added), and
 *   (b) removes a local value of another replica iff the remote data covers its dot but does
 *   not hold it. Contexts are then joined (pointwise max + cloud union, known replicas only).
 *   Merging is idempotent, commutative and tolerates loss, duplication and reordering;
 *   anti-entropy (clock sampling + full-state transfer) repairs losses.
 * - *Delta*: what changed since the last `takeDelta()` — the values added locally (still
 *   alive), the dots removed (locally, or observed while merging: removals are re-gossiped,
 *   remote adds are not) and the local counter range covered. Every local counter in the
 *   range is covered by the delta, which keeps deltas small (no per-dot cloud for own ops).
 * - Replicas are `up` or `down`. A down replica's values stay in the state (and in merges)
 *   but are hidden from reads and reported as leaves; coming back up with the same vsn
 *   reports them as joins again. `permdown` deletes the replica and all its values.
 *
 * Indexes: per replica (counter → value), per topic (key → values in insertion order, with
 * visible counts) and per local owner ((topic, key) → value), so local ops are O(1), reads
 * are O(entries of the topic) (counts O(1)) and merging a delta is O(delta).
 *
 * No timers, no I/O, no randomness: the replica loop drives this object.
 */
import {
  type Clock, type Replica, type ReplicaRef, coverDot, coverRange, isCovered, refKey, replicaKey,
  selectTransferTargets,
} from "./clock.js";
import { TopicIndex } from "./topic-index.js";
import {
  type Diff, type Entry, type OpResult, type ReplicaInfo, type ReplicaRec, type Value, adoptMeta, emptyDiff, entryOf,
} from "./types.js";
import { type Meta, type TrackerData, type WireReplica, type WireValue, WIRE_VERSION } from "./wire.js";

const EMPTY_VALUES: ReadonlyMap<number, WireValue> = new Map();

/** Unambiguous (topic, key) composite for the local owner index. */
function topicKey(topic: string, key: string): string {
  return `${topic.length}:${topic}${key}`;
}

function checkStrings(owner: unknown, topic: unknown, key: unknown): void {
  if (typeof owner !== "string" || typeof topic !== "string" || typeof key !== "string") {
    throw new TypeError("owner, topic and key must be strings");
  }
}

/**
 * The CRDT state of one tracker replica. Mutated in place by local ops, merges and replica
 * lifecycle calls; each mutating call returns the visible diff it caused.
 */
export class TrackerState {
  /** This replica's identity. */
  readonly replica: Replica;
  /** This replica's key (`replicaKey(this.replica)`). */
  readonly key: string;

  private readonly self: ReplicaRec;
  private readonly reps = new Map<string, ReplicaRec>();
  private readonly byName = new Map<string, ReplicaRec>();
  private readonly index = new TopicIndex();
  private readonly local = new Map<string, Map<string, Value>>();
  private deltaStart = 0;
  private deltaValues = new Map<number, Value>();
  private deltaCloud = new Map<string, Set<number>>();

  /** A fresh, empty state for replica `self` (known to itself, up, counter 0). */
  constructor(self: Replica) {
    const key = replicaKey(self);
    this.replica = Object.freeze({ name: self.name, vsn: self.vsn });
    this.key = key;
    this.self = this.newRec(key, self.name, self.vsn);
  }

  // ---------------------------------------------------------------- local operations

  /**
   * Add (owner, topic, key) with `meta` (which should already carry `phx_ref`). Refused with
   * `already_tracked` when this replica already holds that triple. O(1).
   */
  join(owner: string, topic: string, key: string, meta: Meta): OpResult {
    checkStrings(owner, topic, key);
    if (this.local.get(owner)?.has(topicKey(topic, key))) return { ok: false, error: "already_tracked" };
    const v = this.addLocal(owner, topic, key, adoptMeta(meta));
    return { ok: true, diff: { joins: [entryOf(v)], leaves: [] } };
  }

  /** Remove (owner, topic, key) if this replica holds it; the diff is empty otherwise. */
  leave(owner: string, topic: string, key: string): Diff {
    const v = this.local.get(owner)?.get(topicKey(topic, key));
    if (v === undefined) return emptyDiff();
    this.removeLocal(v);
    this.self.ctx++; // the removal consumes a dot so that clocks reveal it
    return { joins: [], leaves: [entryOf(v)] };
  }

  /** Remove every entry of `owner` held by this replica (channel exit). */
  leaveOwner(owner: string): Diff {
    const byKey = this.local.get(owner);
    if (byKey === undefined) return emptyDiff();
    const removed = [...byKey.values()];
    const leaves: Entry[] = [];
    for (const v of removed) {
      this.removeLocal(v);
      leaves.push(entryOf(v));
    }
    this.self.ctx++;
    return { joins: [], leaves };
  }

  /**
   * Replace the meta of (owner, topic, key): atomic remove + add under a new dot (the caller
   * puts the new `phx_ref` / `phx_ref_prev` in `meta`). Refused with `nopresence` when not
   * held. The diff has the new entry in `joins` and the old one in `leaves`.
   */
  update(owner: string, topic: string, key: string, meta: Meta): OpResult {
    checkStrings(owner, topic, key);
    const old = this.local.get(owner)?.get(topicKey(topic, key));
    if (old === undefined) return { ok: false, error: "nopresence" };
    const adopted = adoptMeta(meta);
    this.removeLocal(old); // the new dot below doubles as the removal's dot
    const v = this.addLocal(owner, topic, key, adopted);
    return { ok: true, diff: { joins: [entryOf(v)], leaves: [entryOf(old)] } };
  }

  /** Current meta of a locally held (owner, topic, key), e.g. for `update(fn)`. */
  getLocal(owner: string, topic: string, key: string): Meta | undefined {
    return this.local.get(owner)?.get(topicKey(topic, key))?.meta;
  }

  /** Entries this replica holds for `owner`, in insertion order. */
  ownerEntries(owner: string): Entry[] {
    const byKey = this.local.get(owner);
    return byKey === undefined ? [] : [...byKey.values()].map(entryOf);
  }

  // ---------------------------------------------------------------- reads (visible only)

  /** key → metas of `topic` (visible entries only), keys and metas in insertion order. */
  list(topic: string): Map<string, Meta[]> {
    return this.index.list(topic);
  }

  /** Keys of `topic` with a visible entry, in insertion order. */
  keys(topic: string): string[] {
    return this.index.keys(topic);
  }

  /** Metas of `key` in `topic` (visible only, insertion order); empty when none. */
  get(topic: string, key: string): Meta[] {
    return this.index.get(topic, key);
  }

  /** Visible entries of `topic` (or of one `key` in it), with owners and dots. */
  entries(topic: string, key?: string): Entry[] {
    return this.index.entries(topic, key);
  }

  /** Number of distinct keys with a visible entry in `topic`. O(1). */
  countKeys(topic: string): number {
    return this.index.countKeys(topic);
  }

  /** Number of visible entries (metas) of `key` in `topic`. O(1). */
  countKeyMetas(topic: string, key: string): number {
    return this.index.countKeyMetas(topic, key);
  }

  /** Number of visible entries (metas) in `topic`. O(1). */
  countMetas(topic: string): number {
    return this.index.countMetas(topic);
  }

  /** Topics with at least one visible entry. O(topics). */
  topics(): string[] {
    return this.index.topics();
  }

  /** The value with dot (replica, counter), visible or not (diagnostics / tests). */
  valueAt(replica: ReplicaRef, counter: number): Entry | undefined {
    const v = this.reps.get(refKey(replica))?.values.get(counter);
    return v === undefined ? undefined : entryOf(v);
  }

  /** True when the causal context covers dot (replica, counter) (diagnostics / tests). */
  covers(replica: ReplicaRef, counter: number): boolean {
    const rec = this.reps.get(refKey(replica));
    return rec !== undefined && isCovered(rec, counter);
  }

  // ---------------------------------------------------------------- clocks

  /** Advertised clock: own causal context (contiguous counters) minus down replicas. */
  clock(): Map<string, number> {
    const out = new Map<string, number>();
    for (const rec of this.reps.values()) if (rec.up) out.set(rec.key, rec.ctx);
    return out;
  }

  /**
   * Clock sampling: given the latest clock heard from each remote replica (sender key →
   * clock), the senders to send a transfer request to — known, up, and with a clock not
   * dominated by ours (see `selectTransferTargets`).
   */
  transferTargets(remoteClocks: Iterable<readonly [sender: string, clock: Clock]>): string[] {
    return selectTransferTargets(this.clock(), this.key, remoteClocks);
  }

  // ---------------------------------------------------------------- replica lifecycle

  /**
   * A heartbeat arrived from `replica`. Unknown → becomes known and up with context 0.
   * Known but down (same vsn) → up again, its retained values are reported as joins. Same
   * name with another vsn → the old replica goes down + permdown (its visible values are
   * reported as leaves) and the new one comes up. Already up, or our own name → no-op.
   */
  replicaUp(replica: Replica): Diff {
    const key = replicaKey(replica);
    if (replica.name === this.replica.name) return emptyDiff();
    const existing = this.byName.get(replica.name);
    if (existing !== undefined && existing.key === key) {
      if (existing.up) return emptyDiff();
      existing.up = true;
      const diff = emptyDiff();
      for (const v of existing.values.values()) {
        this.index.setVisible(v, true);
        diff.joins.push(entryOf(v));
      }
      return diff;
    }
    const diff = existing === undefined ? emptyDiff() : this.dropReplica(existing);
    this.newRec(key, replica.name, replica.vsn);
    return diff;
  }

  /**
   * `replica` missed heartbeats for `down_period`: its values are hidden (kept) and the
   * visible ones reported as leaves. No-op when unknown, already down, or ourselves.
   */
  replicaDown(replica: ReplicaRef): Diff {
    const rec = this.reps.get(refKey(replica));
    const diff = emptyDiff();
    if (rec === undefined || rec === this.self || !rec.up) return diff;
    rec.up = false;
    for (const v of rec.values.values()) {
      this.index.setVisible(v, false);
      diff.leaves.push(entryOf(v));
    }
    return diff;
  }

  /**
   * Forget `replica` (permdown_period elapsed, graceful permdown, or replaced by a new vsn):
   * its values are deleted and it leaves the context, clouds, delta and replica map. Values
   * still visible (replica was up) are reported as leaves, so a graceful permdown needs no
   * separate `replicaDown`. No-op when unknown or ourselves.
   */
  permdown(replica: ReplicaRef): Diff {
    const rec = this.reps.get(refKey(replica));
    if (rec === undefined || rec === this.self) return emptyDiff();
    return this.dropReplica(rec);
  }

  /** Known replicas (including ourselves) with status and causal summary. */
  replicas(): ReplicaInfo[] {
    return [...this.reps.values()].map((r) => ({
      key: r.key, name: r.name, vsn: r.vsn, status: r.up ? "up" : "down",
      context: r.ctx, values: r.values.size, self: r === this.self,
    }));
  }

  /** Status of a replica: "up", "down", or undefined when unknown. */
  replicaStatus(replica: ReplicaRef): "up" | "down" | undefined {
    const rec = this.reps.get(refKey(replica));
    return rec === undefined ? undefined : rec.up ? "up" : "down";
  }

  // ---------------------------------------------------------------- deltas and transfer

  /** True when something happened since the last `takeDelta()`. */
  hasDelta(): boolean {
    return this.self.ctx !== this.deltaStart || this.deltaCloud.size > 0;
  }

  /**
   * The delta accumulated since the last call (local adds still alive, removed dots, own
   * counter range), or null when nothing happened; resets the delta. Call once per
   * heartbeat and broadcast the result.
   */
  takeDelta(): TrackerData | null {
    if (!this.hasDelta()) return null;
    const own = this.deltaCloud.get(this.key);
    const replicas: WireReplica[] = [[this.replica.name, this.replica.vsn, 0, own === undefined ? [] : [...own]]];
    for (const [k, dots] of this.deltaCloud) {
      if (k === this.key) continue;
      const rec = this.reps.get(k);
      if (rec !== undefined) replicas.push([rec.name, rec.vsn, 0, [...dots]]);
    }
    const values: WireValue[] = [];
    for (const v of this.deltaValues.values()) values.push([0, v.counter, v.owner, v.topic, v.key, v.meta]);
    const data: TrackerData = {
      v: WIRE_VERSION, kind: "delta", from: [this.replica.name, this.replica.vsn],
      replicas, range: [this.deltaStart, this.self.ctx], values,
    };
    this.deltaStart = this.self.ctx;
    this.deltaValues = new Map();
    this.deltaCloud = new Map();
    return data;
  }

  /**
   * Full-state extraction for a transfer request from `requester` advertising
   * `requesterClock`: every replica we know that is in the requester's clock (except the
   * requester itself), each with its complete context, cloud and values (hidden ones too).
   * Always a correct answer to a transfer request. O(size of the extracted state).
   */
  extract(requester: ReplicaRef, requesterClock: Clock): TrackerData {
    const skip = refKey(requester);
    const replicas: WireReplica[] = [];
    const values: WireValue[] = [];
    for (const rec of this.reps.values()) {
      if (rec.key === skip || !requesterClock.has(rec.key)) continue;
      const i = replicas.length;
      replicas.push([rec.name, rec.vsn, rec.ctx, [...rec.cloud]]);
      for (const v of rec.values.values()) values.push([i, v.counter, v.owner, v.topic, v.key, v.meta]);
    }
    return {
      v: WIRE_VERSION, kind: "state", from: [this.replica.name, this.replica.vsn], replicas, range: null, values,
    };
  }

  /**
   * Merge a remote delta or full state (from `takeDelta`/`extract`, or validated with
   * `decodeData`). Only replicas known here count; our own replica is never touched.
   * Returns the visible changes. Idempotent and order-insensitive. Cost: O(data) for a
   * delta, plus O(local values of each replica whose context is non-zero) for a state.
   */
  merge(data: TrackerData): Diff {
    const diff = emptyDiff();
    const byIndex: Array<Map<number, WireValue> | undefined> = [];
    for (const w of data.values) {
      let m = byIndex[w[0]];
      if (m === undefined) byIndex[w[0]] = m = new Map();
      m.set(w[1], w);
    }
    const range = data.kind === "delta" ? data.range : null;
    const senderKey = replicaKey({ name: data.from[0], vsn: data.from[1] });
    let senderDone = false;
    for (let i = 0; i < data.replicas.length; i++) {
      const [name, vsn, ctx, cloud] = data.replicas[i]!;
      const key = replicaKey({ name, vsn });
      const isSender = key === senderKey;
      if (isSender) senderDone = true;
      const rec = this.reps.get(key);
      if (rec === undefined || rec === this.self) continue;
      this.mergeReplica(rec, ctx, cloud, byIndex[i] ?? EMPTY_VALUES, isSender ? range : null, diff);
    }
    if (!senderDone && range !== null) {
      const rec = this.reps.get(senderKey);
      if (rec !== undefined && rec !== this.self) this.mergeReplica(rec, 0, [], EMPTY_VALUES, range, diff);
    }
    return diff;
  }

  // ---------------------------------------------------------------- internals

  private mergeReplica(
    rec: ReplicaRec, ctx: number, cloud: readonly number[], remote: ReadonlyMap<number, WireValue>,
    range: readonly [number, number] | null, diff: Diff,
  ): void {
    // 1. Observed removes: local values whose dot the remote covers but does not hold.
    if (ctx > 0) {
      for (const [c, v] of rec.values) if (c <= ctx && !remote.has(c)) this.removeRemote(v, diff);
    }
    for (const c of cloud) {
      if (c <= ctx || remote.has(c)) continue;
      const v = rec.values.get(c);
      if (v !== undefined) this.removeRemote(v, diff);
    }
    if (range !== null) {
      const [start, end] = range;
      if (end - start <= rec.values.size) {
        for (let c = start + 1; c <= end; c++) {
          if (c <= ctx || remote.has(c)) continue;
          const v = rec.values.get(c);
          if (v !== undefined) this.removeRemote(v, diff);
        }
      } else {
        for (const [c, v] of rec.values) if (c > start && c <= end && !remote.has(c)) this.removeRemote(v, diff);
      }
    }
    // 2. Adds: remote values whose dot we have not seen (a seen-and-removed dot stays removed).
    for (const [c, w] of remote) {
      if (isCovered(rec, c)) continue;
      const v: Value = { rep: rec, counter: c, owner: w[2], topic: w[3], key: w[4], meta: adoptMeta(w[5]) };
      rec.values.set(c, v);
      this.index.add(v);
      if (rec.up) diff.joins.push(entryOf(v));
    }
    // 3. Join the causal context.
    if (ctx > 0) coverRange(rec, 0, ctx);
    for (const c of cloud) coverDot(rec, c);
    if (range !== null) coverRange(rec, range[0], range[1]);
    for (const c of remote.keys()) coverDot(rec, c);
  }

  private newRec(key: string, name: string, vsn: string): ReplicaRec {
    const rec: ReplicaRec = { key, name, vsn, up: true, ctx: 0, cloud: new Set(), values: new Map() };
    this.reps.set(key, rec);
    this.byName.set(name, rec);
    return rec;
  }

  private dropReplica(rec: ReplicaRec): Diff {
    const diff = emptyDiff();
    for (const v of rec.values.values()) {
      this.index.remove(v);
      if (rec.up) diff.leaves.push(entryOf(v));
    }
    rec.values.clear();
    this.reps.delete(rec.key);
    if (this.byName.get(rec.name) === rec) this.byName.delete(rec.name);
    this.deltaCloud.delete(rec.key);
    return diff;
  }

  private addLocal(owner: string, topic: string, key: string, meta: Meta): Value {
    const c = ++this.self.ctx;
    const v: Value = { rep: this.self, counter: c, owner, topic, key, meta };
    this.self.values.set(c, v);
    this.index.add(v);
    let byKey = this.local.get(owner);
    if (byKey === undefined) this.local.set(owner, (byKey = new Map()));
    byKey.set(topicKey(topic, key), v);
    this.deltaValues.set(c, v);
    return v;
  }

  private removeLocal(v: Value): void {
    this.self.values.delete(v.counter);
    this.index.remove(v);
    const byKey = this.local.get(v.owner);
    if (byKey !== undefined) {
      byKey.delete(topicKey(v.topic, v.key));
      if (byKey.size === 0) this.local.delete(v.owner);
    }
    if (v.counter > this.deltaStart) this.deltaValues.delete(v.counter); // covered by the range
    else this.recordRemoved(v);
  }

  private removeRemote(v: Value, diff: Diff): void {
    v.rep.values.delete(v.counter);
    this.index.remove(v);
    this.recordRemoved(v);
    if (v.rep.up) diff.leaves.push(entryOf(v));
  }

  private recordRemoved(v: Value): void {
    let dots = this.deltaCloud.get(v.rep.key);
    if (dots === undefined) this.deltaCloud.set(v.rep.key, (dots = new Set()));
    dots.add(v.counter);
  }
}

export {
  type Clock, type Replica, type ReplicaRef, type WireClock, ReplicaError, REPLICA_KEY_SEPARATOR,
  decodeClock, dominates, encodeClock, parseReplicaKey, replicaKey, selectTransferTargets,
} from "./clock.js";
export {
  type TrackerData, type WireReplica, type WireValue, MAX_DELTA_RANGE, TrackerDataError, WIRE_VERSION, decodeData,
} from "./wire.js";
export { type Diff, type Entry, type OpResult, type ReplicaInfo } from "./types.js";
export type { Meta } from "./wire.js";
