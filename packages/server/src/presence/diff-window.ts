/**
 * The diff window: tracker changes collected per topic and sent as one `presence_diff` per
 * topic `windowMs` after the first change, under the rule of docs/presence.md ("One meta per
 * diff"): a meta is at most once in a diff, on one side. A meta that leaves while its join is
 * pending goes out as a leave only (clients that never saw it ignore the leave; those whose
 * `presence_state` was taken mid-window drop it); a meta that comes back while its leave is
 * pending (a replica down, then up) sends the pending diffs first.
 */
import type { Diff, Entry } from "./state.js";

/** One topic's changes of one window, by dot; no dot is on both sides. */
export interface PendingDiff {
  readonly joins: Map<string, Entry>;
  readonly leaves: Map<string, Entry>;
}

/** An entry's dot as one string: the identity of one meta across the cluster. */
function dotOf(entry: Entry): string {
  return `${entry.replica}\u0001${entry.counter}`;
}

/** Collects changes and hands each window's diffs, per topic, to `send`. */
export class DiffWindow {
  private pending = new Map<string, PendingDiff>();
  private timer: NodeJS.Timeout | undefined;
  private stretchMs = 0;

  /** `windowMs` is clamped to 0–100. */
  constructor(windowMs: number, private readonly send: (batch: ReadonlyMap<string, PendingDiff>) => void) {
    this.windowMs = Math.min(100, Math.max(0, windowMs));
  }

  private readonly windowMs: number;

  /** Adds a tracker diff to the pending diffs of its topics. */
  add(diff: Diff): void {
    for (const entry of diff.leaves) {
      const pending = this.pendingFor(entry.topic);
      const dot = dotOf(entry);
      pending.joins.delete(dot);
      pending.leaves.set(dot, entry);
    }
    for (const entry of diff.joins) {
      const dot = dotOf(entry);
      if (this.pending.get(entry.topic)?.leaves.has(dot)) this.close();
      this.pendingFor(entry.topic).joins.set(dot, entry);
    }
    if (this.timer === undefined && this.pending.size > 0) this.timer = setTimeout(() => this.close(), Math.max(this.windowMs, this.stretchMs));
  }

  /**
   * Makes the following windows last at least `ms` (0: back to `windowMs`): the caller stretches
   * them while sending diffs is costly, so the fan-out takes a bounded share of the process.
   */
  stretch(ms: number): void {
    this.stretchMs = Math.max(0, ms);
  }

  /** Ends the window now: hands over what is pending (if anything). */
  close(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    this.send(batch);
  }

  private pendingFor(topic: string): PendingDiff {
    let pending = this.pending.get(topic);
    if (pending === undefined) this.pending.set(topic, (pending = { joins: new Map(), leaves: new Map() }));
    return pending;
  }
}
