/**
 * The big-room policy, pure (docs/presence.md "Big rooms"): when a topic holds too many metas for
 * a roster, its clients get counts and a capped sample instead of the full list and every diff.
 * This module decides the mode (with hysteresis), keeps the sample (sticky: a sampled meta stays
 * until it leaves; vacancies are filled from recent joins, then from the state), turns a window's
 * changes into the sample's diff, and says when the next count update may go out. No timers, no I/O.
 */
import type { PendingDiff } from "./diff-window.js";
import type { Entry } from "./state.js";

/** Options of the big-room policy of a topic (`createPresence({ bigRoom })`). */
export interface BigRoomOptions {
  /** Connections (metas, cluster-wide) at which the topic enters count mode. Default 1 000. */
  threshold?: number;
  /** Count mode ends when connections fall below this (hysteresis). Default 90 % of `threshold`. */
  leaveBelow?: number;
  /** Most metas in the sample that `presence_state` and `presence_diff` carry. Default 100 (0–1 000). */
  sampleSize?: number;
  /** Least time between two count (and sample) updates of a topic, in ms. Default 1 000 (≥ 50). */
  countIntervalMs?: number;
}

/** A resolved, checked big-room policy. */
export interface BigRoomPolicy {
  readonly threshold: number;
  readonly leaveBelow: number;
  readonly sampleSize: number;
  readonly countIntervalMs: number;
}

/** The default policy (used for every option left out). */
export const defaultBigRoom: BigRoomPolicy = { threshold: 1_000, leaveBelow: 900, sampleSize: 100, countIntervalMs: 1_000 };

/** A topic's presence mode: the full list and every diff, or counts and a sample. */
export type PresenceMode = "list" | "count";

/** The policy, or why the options are refused. */
export type BigRoomResult =
  | { readonly ok: true; readonly policy: BigRoomPolicy }
  | { readonly ok: false; readonly message: string };

function isInteger(value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= min && value <= max;
}

/** Checks big-room options and fills in the defaults. */
export function resolveBigRoom(options: BigRoomOptions): BigRoomResult {
  if (typeof options !== "object" || options === null) return { ok: false, message: "bigRoom must be an object" };
  const threshold = options.threshold ?? defaultBigRoom.threshold;
  if (!isInteger(threshold, 1)) return { ok: false, message: `bigRoom.threshold must be an integer ≥ 1 (got ${String(threshold)})` };
  const leaveBelow = options.leaveBelow ?? Math.max(1, Math.floor(threshold * 0.9));
  if (!isInteger(leaveBelow, 1, threshold)) return { ok: false, message: `bigRoom.leaveBelow must be an integer from 1 to threshold (${threshold}) (got ${String(leaveBelow)})` };
  const sampleSize = options.sampleSize ?? defaultBigRoom.sampleSize;
  if (!isInteger(sampleSize, 0, 1_000)) return { ok: false, message: `bigRoom.sampleSize must be an integer from 0 to 1000 (got ${String(sampleSize)})` };
  const countIntervalMs = options.countIntervalMs ?? defaultBigRoom.countIntervalMs;
  if (!isInteger(countIntervalMs, 50)) return { ok: false, message: `bigRoom.countIntervalMs must be an integer ≥ 50 (got ${String(countIntervalMs)})` };
  return { ok: true, policy: { threshold, leaveBelow, sampleSize, countIntervalMs } };
}

/**
 * The mode after a change: a list topic enters count mode at `threshold` connections or more;
 * a count topic goes back to the list only below `leaveBelow`, so a room at the edge does not flap.
 */
export function nextMode(mode: PresenceMode, connections: number, policy: BigRoomPolicy): PresenceMode {
  if (mode === "list") return connections >= policy.threshold ? "count" : "list";
  return connections < policy.leaveBelow ? "list" : "count";
}

/**
 * When the next count update may go out: `countIntervalMs` after the last one (at once if that
 * is past). Updates are coalesced: changes until then go out together.
 */
export function nextUpdateDelay(lastSentAt: number | undefined, now: number, policy: BigRoomPolicy): number {
  if (lastSentAt === undefined) return 0;
  return Math.max(0, lastSentAt + policy.countIntervalMs - now);
}

/** An entry's dot: the identity of one meta across the cluster. */
export function dotOf(entry: Entry): string {
  return `${entry.replica}\u0001${entry.counter}`;
}

/** The sample's changes since the last update: metas to send as joins and as leaves (none on both sides). */
export interface SampleDiff {
  readonly joins: Entry[];
  readonly leaves: Entry[];
}

/**
 * One topic's sample: at most `size` metas that clients are shown, sticky (a sampled meta stays
 * until it leaves). `apply` takes each window's changes; `take` returns what changed since the
 * last `take` (a meta that entered and left the sample in between is in neither side).
 */
export class RoomSample {
  private readonly members = new Map<string, Entry>();
  /** Recent joins outside the sample, newest last, at most `size`: the first to fill vacancies. */
  private readonly candidates = new Map<string, Entry>();
  private readonly joined = new Map<string, Entry>();
  private readonly left = new Map<string, Entry>();

  constructor(private readonly size: number, initial: Iterable<Entry> = []) {
    for (const entry of initial) {
      if (this.members.size >= size) break;
      this.members.set(dotOf(entry), entry);
    }
  }

  /** The sampled metas, in the order they entered the sample. */
  entries(): Entry[] {
    return [...this.members.values()];
  }

  /** How many metas the sample holds. */
  get count(): number {
    return this.members.size;
  }

  /** True when the sample has room and `connections` says there are metas outside it. */
  wantsMore(connections: number): boolean {
    return this.members.size < this.size && this.members.size < connections;
  }

  /** Takes one window's changes: leaves first (the window holds no meta on both sides). */
  apply(pending: PendingDiff): void {
    for (const [dot, entry] of pending.leaves) {
      this.candidates.delete(dot);
      if (!this.members.delete(dot)) continue;
      if (!this.joined.delete(dot)) this.left.set(dot, entry);
    }
    for (const [dot, entry] of pending.joins) {
      if (this.members.has(dot)) continue;
      this.candidates.set(dot, entry);
      if (this.candidates.size > this.size) this.candidates.delete(this.candidates.keys().next().value as string);
    }
    this.fill(this.candidates);
  }

  /** Fills vacancies from `entries` (the topic's state, when recent joins were not enough). */
  refill(entries: Iterable<Entry>): void {
    const source = new Map<string, Entry>();
    for (const entry of entries) {
      if (this.members.size + source.size >= this.size) break;
      const dot = dotOf(entry);
      if (!this.members.has(dot)) source.set(dot, entry);
    }
    this.fill(source);
  }

  /** The sample's changes since the last `take`, and forgets them. */
  take(): SampleDiff {
    const diff = { joins: [...this.joined.values()], leaves: [...this.left.values()] };
    this.joined.clear();
    this.left.clear();
    return diff;
  }

  private fill(from: Map<string, Entry>): void {
    for (const [dot, entry] of from) {
      if (this.members.size >= this.size) return;
      from.delete(dot);
      this.members.set(dot, entry);
      // Back after a leave not yet sent (a replica down and up again): clients still hold it.
      if (!this.left.delete(dot)) this.joined.set(dot, entry);
    }
  }
}
