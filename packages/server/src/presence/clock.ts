/**
 * Replica identities and version-vector clocks for the presence tracker CRDT.
 *
 * A replica is one tracker instance on one node: `{ name, vsn }`, where `name` is the node
 * name (unique in the cluster) and `vsn` the boot version, so a restarted node is a new
 * replica with the same name. Internally (and in every `Clock`) a replica is identified by
 * its *replica key* `name + "\u0000" + vsn`; names must not contain U+0000, which makes the
 * key unambiguous (the vsn may contain anything).
 *
 * A clock maps replica keys to the highest *contiguous* counter observed from that replica
 * (a version vector). Clocks are what replicas advertise in heartbeats; comparing them is how
 * the replica loop finds peers that know more than we do (clock sampling → transfer_req).
 *
 * Pure data and functions: no timers, no I/O.
 */

/** Identity of one tracker replica: node name + boot version. */
export interface Replica {
  readonly name: string;
  readonly vsn: string;
}

/** A replica given either as `{ name, vsn }` or as its replica key. */
export type ReplicaRef = Replica | string;

/** Separator between name and vsn inside a replica key. */
export const REPLICA_KEY_SEPARATOR = "\u0000";

/** Version vector: replica key → highest contiguous counter observed. */
export type Clock = ReadonlyMap<string, number>;

/** Wire form of a clock: `[name, vsn, counter]` triples (JSON-safe). */
export type WireClock = Array<[name: string, vsn: string, counter: number]>;

/** Error thrown when a replica identity or a clock received from outside is malformed. */
export class ReplicaError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ReplicaError";
  }
}

/**
 * The replica key of `replica` (`name + "\u0000" + vsn`).
 * Throws `ReplicaError` when a field is not a string or the name contains U+0000.
 */
export function replicaKey(replica: Replica): string {
  const { name, vsn } = replica;
  if (typeof name !== "string" || typeof vsn !== "string") {
    throw new ReplicaError("replica name and vsn must be strings");
  }
  if (name.includes(REPLICA_KEY_SEPARATOR)) {
    throw new ReplicaError(`replica name must not contain U+0000: ${JSON.stringify(name)}`);
  }
  return name + REPLICA_KEY_SEPARATOR + vsn;
}

/** Inverse of `replicaKey`. Throws `ReplicaError` when `key` has no separator. */
export function parseReplicaKey(key: string): Replica {
  const i = key.indexOf(REPLICA_KEY_SEPARATOR);
  if (i < 0) throw new ReplicaError(`not a replica key: ${JSON.stringify(key)}`);
  return { name: key.slice(0, i), vsn: key.slice(i + 1) };
}

/** The replica key for a `ReplicaRef` (strings are taken as keys as they are). */
export function refKey(ref: ReplicaRef): string {
  return typeof ref === "string" ? ref : replicaKey(ref);
}

/**
 * True when clock `a` dominates clock `b`: for every replica of `b` (restricted to `only`
 * when given), `a`'s counter is ≥ `b`'s, a missing entry counting as 0. Equal clocks
 * dominate each other.
 */
export function dominates(a: Clock, b: Clock, only?: { has(key: string): boolean }): boolean {
  for (const [k, vb] of b) {
    if (only !== undefined && !only.has(k)) continue;
    if ((a.get(k) ?? 0) < vb) return false;
  }
  return true;
}

/**
 * Clock sampling: which remote replicas to send a transfer request to.
 *
 * `own` is our advertised clock (see `TrackerState.clock()`), `self` our replica key, and
 * `remotes` the latest clock received from each remote replica (sender key → clock).
 * Only replicas present in `own` matter (we can only use data about replicas we know and
 * consider up), so comparisons are restricted to `own`'s keys and senders not in `own`
 * are skipped. A sender is a candidate when its clock is not dominated by `own`; among the
 * candidates, one whose clock is dominated by another candidate's is dropped (ties: the
 * first one in iteration order is kept). Returns the chosen sender keys.
 */
export function selectTransferTargets(
  own: Clock,
  self: string,
  remotes: Iterable<readonly [sender: string, clock: Clock]>,
): string[] {
  const candidates: Array<readonly [string, Clock]> = [];
  for (const [sender, clock] of remotes) {
    if (sender === self || !own.has(sender)) continue;
    if (!dominates(own, clock, own)) candidates.push([sender, clock]);
  }
  const out: string[] = [];
  for (let i = 0; i < candidates.length; i++) {
    const [sender, clock] = candidates[i]!;
    let redundant = false;
    for (let j = 0; j < candidates.length && !redundant; j++) {
      if (j === i) continue;
      const other = candidates[j]![1];
      if (dominates(other, clock, own)) {
        // Strictly dominated → redundant; equal → keep only the earlier one.
        redundant = j < i || !dominates(clock, other, own);
      }
    }
    if (!redundant) out.push(sender);
  }
  return out;
}

/** Encode a clock as JSON-safe `[name, vsn, counter]` triples. */
export function encodeClock(clock: Clock): WireClock {
  const out: WireClock = [];
  for (const [k, n] of clock) {
    const { name, vsn } = parseReplicaKey(k);
    out.push([name, vsn, n]);
  }
  return out;
}

/**
 * Parse and validate a wire clock (as produced by `encodeClock`, after JSON). Throws
 * `ReplicaError` on malformed input (network data). Duplicate replicas are rejected.
 */
export function decodeClock(input: unknown): Map<string, number> {
  if (!Array.isArray(input)) throw new ReplicaError("clock: expected an array");
  const out = new Map<string, number>();
  for (let i = 0; i < input.length; i++) {
    const t: unknown = input[i];
    if (!Array.isArray(t) || t.length !== 3) {
      throw new ReplicaError(`clock[${i}]: expected [name, vsn, counter]`);
    }
    const [name, vsn, n] = t as unknown[];
    if (typeof name !== "string" || typeof vsn !== "string") {
      throw new ReplicaError(`clock[${i}]: name and vsn must be strings`);
    }
    if (!isCounter(n)) throw new ReplicaError(`clock[${i}]: counter must be a non-negative safe integer`);
    const k = replicaKey({ name, vsn });
    if (out.has(k)) throw new ReplicaError(`clock[${i}]: duplicate replica ${JSON.stringify(name)}`);
    out.set(k, n);
  }
  return out;
}

/** True for a non-negative safe integer (a valid counter or context value). */
export function isCounter(n: unknown): n is number {
  return typeof n === "number" && Number.isSafeInteger(n) && n >= 0;
}

/**
 * What one replica's state has observed of another replica's dots: every counter
 * 1..`ctx`, plus the counters in `cloud` (kept > ctx + 1: contiguous dots are folded in).
 */
export interface CausalContext {
  ctx: number;
  readonly cloud: Set<number>;
}

/** True when counter `n` is covered by `cc`. */
export function isCovered(cc: CausalContext, n: number): boolean {
  return n <= cc.ctx || cc.cloud.has(n);
}

/** Add counter `n` to `cc`, folding the cloud into the contiguous part (amortised O(1)). */
export function coverDot(cc: CausalContext, n: number): void {
  if (n <= cc.ctx) return;
  if (n !== cc.ctx + 1) {
    cc.cloud.add(n);
    return;
  }
  cc.ctx = n;
  if (cc.cloud.size > 0) while (cc.cloud.delete(cc.ctx + 1)) cc.ctx++;
}

/** Add counters start+1..end to `cc` (O(1) plus the cloud size when it bridges the gap). */
export function coverRange(cc: CausalContext, start: number, end: number): void {
  if (end <= cc.ctx) return;
  if (start > cc.ctx) {
    for (let n = start + 1; n <= end; n++) coverDot(cc, n);
    return;
  }
  cc.ctx = end;
  if (cc.cloud.size > 0) {
    for (const n of cc.cloud) if (n <= end) cc.cloud.delete(n);
    while (cc.cloud.delete(cc.ctx + 1)) cc.ctx++;
  }
}
