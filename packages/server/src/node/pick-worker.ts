/**
 * The primary's choice of worker for a new connection, as a pure function of what it knows of
 * each worker: the worker holding the fewest open connections among those taking new ones and
 * below their limit and their cap on handoffs in flight. No worker taking connections (all
 * starting or draining), every worker full, and every worker behind (its handoffs unacknowledged:
 * its CPU cannot keep up) are answered as values, so the caller can refuse with the reason.
 */

/** What the primary knows of one worker when a connection arrives. */
export interface WorkerLoad {
  /** The worker's id (node:cluster's `worker.id`). */
  readonly id: number;
  /** Connections it holds, counting those handed over and not yet acknowledged. */
  readonly open: number;
  /** Of `open`, the handoffs not yet acknowledged by the worker. */
  readonly pending: number;
  /** The most it may hold; 0 for no limit. */
  readonly max: number;
  /** False while it starts (not yet ready), drains or is gone: it gets no connection. */
  readonly accepting: boolean;
  /** True when the worker itself said it is full (its endpoint is at `maxConnections`). */
  readonly full: boolean;
}

/** Why no worker was picked: none accepting, every one full, or every one with room behind. */
export type NoWorker = "no-worker" | "full" | "busy";

/** A refusal of `pickWorker`, with the open and max totals of the accepting workers. */
export interface NoPick {
  readonly ok: false;
  readonly reason: NoWorker;
  readonly open: number;
  readonly max: number;
}

/** The outcome of `pickWorker`. */
export type WorkerPick = { readonly ok: true; readonly id: number } | NoPick;

/** True when `load` is below its limit (and did not say it is full). */
export function hasRoom(load: WorkerLoad): boolean {
  return !load.full && (load.max === 0 || load.open < load.max);
}

/**
 * The accepting worker with room and fewer than `maxPending` handoffs in flight that holds the
 * fewest connections (the first of equals, in `loads` order); else `{ok: false}` with reason
 * `"no-worker"` (none accepting), `"full"` (every accepting worker at its limit) or `"busy"`
 * (those with room all at `maxPending`).
 */
export function pickWorker(loads: Iterable<WorkerLoad>, maxPending = Infinity): WorkerPick {
  let best: WorkerLoad | undefined;
  let accepting = 0;
  let roomy = 0;
  let open = 0;
  let max = 0;
  for (const load of loads) {
    if (!load.accepting) continue;
    accepting++;
    open += load.open;
    max += load.max;
    if (!hasRoom(load)) continue;
    roomy++;
    if (load.pending >= maxPending) continue;
    if (best === undefined || load.open < best.open) best = load;
  }
  if (best !== undefined) return { ok: true, id: best.id };
  return { ok: false, reason: accepting === 0 ? "no-worker" : roomy === 0 ? "full" : "busy", open, max };
}
