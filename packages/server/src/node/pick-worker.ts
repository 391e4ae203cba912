/**
 * The primary's choice of worker for a new connection, as a pure function of what it knows of
 * each worker: the worker holding the fewest open connections among those taking new ones,
 * below their limit and not stalled. When that worker's handoffs in flight are at their window,
 * another within `slack` of its load takes it, else the answer is to wait for it (its
 * acknowledgement comes within a moment), which keeps the split even during a burst; a worker whose handoff stays unacknowledged too long is stalled and left out,
 * so a saturated worker does not hold up the others. No worker taking connections (all
 * starting or draining) and every worker full are answered as values, for the caller to refuse.
 */

/** What the primary knows of one worker when a connection arrives. */
export interface WorkerLoad {
  /** The worker's id (node:cluster's `worker.id`). */
  readonly id: number;
  /** Connections it holds, counting those handed over and not yet acknowledged. */
  readonly open: number;
  /** The most it may hold; 0 for no limit. */
  readonly max: number;
  /** False while it starts (not yet ready), drains or is gone: it gets no connection. */
  readonly accepting: boolean;
  /** True when the worker itself said it is full (its endpoint is at `maxConnections`). */
  readonly full: boolean;
  /** True while it has as many handoffs unacknowledged as it may (it must acknowledge one first). */
  readonly busy: boolean;
  /** True when that handoff has been unacknowledged too long (its CPU cannot keep up). */
  readonly stalled: boolean;
}

/** Why no worker can take a connection: none accepting, every one full, or (the caller's) none in time. */
export type NoWorker = "no-worker" | "full" | "busy";

/** A refusal, with the open and max totals of the accepting workers. */
export interface NoPick {
  readonly ok: false;
  readonly reason: NoWorker;
  readonly open: number;
  readonly max: number;
}

/** The outcome of `pickWorker`: a worker, wait (the one to take it is busy a moment), or a refusal. */
export type WorkerPick = { readonly ok: true; readonly id: number } | { readonly ok: false; readonly reason: "wait" } | NoPick;

/** True when `load` is below its limit (and did not say it is full). */
export function hasRoom(load: WorkerLoad): boolean {
  return !load.full && (load.max === 0 || load.open < load.max);
}

/**
 * How many more connections than the least-loaded worker one may hold and still take a connection
 * while that one is busy: 2, or 0.5 % of its load, so a burst keeps every worker working and the
 * split within that.
 */
export function slack(open: number): number {
  return Math.max(2, Math.floor(open / 200));
}

/**
 * The accepting, not stalled worker with room that holds the fewest connections (of equals, one
 * not busy, then the first in `loads` order): `{ok: true, id}` when it is not busy, else the
 * least-loaded one that is not busy if it holds at most `slack` more; `{reason: "wait"}` when
 * neither or every worker with room is stalled; else a
 * refusal: `"no-worker"` (none accepting) or `"full"` (every accepting worker at its limit).
 */
export function pickWorker(loads: Iterable<WorkerLoad>): WorkerPick {
  let best: WorkerLoad | undefined;
  /** The least-loaded worker that is not busy, for when `best` is. */
  let free: WorkerLoad | undefined;
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
    if (load.stalled) continue;
    if (best === undefined || load.open < best.open || (load.open === best.open && best.busy && !load.busy)) best = load;
    if (!load.busy && (free === undefined || load.open < free.open)) free = load;
  }
  if (best !== undefined && !best.busy) return { ok: true, id: best.id };
  if (best !== undefined && free !== undefined && free.open <= best.open + slack(best.open)) return { ok: true, id: free.id };
  if (best !== undefined) return { ok: false, reason: "wait" };
  if (roomy > 0) return { ok: false, reason: "wait" };
  return { ok: false, reason: accepting === 0 ? "no-worker" : "full", open, max };
}
