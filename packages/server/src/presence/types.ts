/**
 * Data types shared by the presence tracker state modules: the public `Entry` / `Diff`
 * shapes, the internal per-replica and per-value records, and small helpers on them.
 * Pure data; no timers, no I/O.
 */
import type { CausalContext } from "./clock.js";
import type { Meta } from "./wire.js";

/** One presence entry as reported in diffs and reads (a fresh object; meta is frozen). */
export interface Entry {
  readonly topic: string;
  readonly key: string;
  readonly owner: string;
  readonly meta: Meta;
  /** Replica key of the replica that added the entry. */
  readonly replica: string;
  /** Counter of the entry's dot. */
  readonly counter: number;
}

/** Changes caused by an operation, in order of occurrence within each list. */
export interface Diff {
  joins: Entry[];
  leaves: Entry[];
}

/** Result of `join` / `update`: the diff, or why nothing changed. */
export type OpResult =
  | { readonly ok: true; readonly diff: Diff }
  | { readonly ok: false; readonly error: "already_tracked" | "nopresence" };

/** Status and causal summary of a known replica, as returned by `replicas()`. */
export interface ReplicaInfo {
  readonly key: string;
  readonly name: string;
  readonly vsn: string;
  readonly status: "up" | "down";
  /** Highest contiguous counter observed from this replica. */
  readonly context: number;
  /** Number of values held for it (visible or not). */
  readonly values: number;
  readonly self: boolean;
}

/** Internal: a known replica — status, causal context (contiguous counter + cloud), values. */
export interface ReplicaRec extends CausalContext {
  readonly key: string;
  readonly name: string;
  readonly vsn: string;
  up: boolean;
  readonly values: Map<number, Value>;
}

/** Internal: one stored value; its dot is (rep, counter). Immutable. */
export interface Value {
  readonly rep: ReplicaRec;
  readonly counter: number;
  readonly owner: string;
  readonly topic: string;
  readonly key: string;
  readonly meta: Meta;
}

/** A new empty diff. */
export function emptyDiff(): Diff {
  return { joins: [], leaves: [] };
}

/** The public entry for a stored value (fresh object). */
export function entryOf(v: Value): Entry {
  return { topic: v.topic, key: v.key, owner: v.owner, meta: v.meta, replica: v.rep.key, counter: v.counter };
}

/**
 * Take ownership of a meta: frozen metas are shared as they are, others are copied
 * shallowly (own `__proto__` keys stay ordinary own properties) and frozen.
 */
export function adoptMeta(meta: Meta): Meta {
  if (typeof meta !== "object" || meta === null || Array.isArray(meta)) {
    throw new TypeError("presence meta must be a plain object");
  }
  return Object.isFrozen(meta) ? meta : Object.freeze({ ...meta });
}
