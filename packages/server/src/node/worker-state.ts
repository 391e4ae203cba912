/**
 * What the primary knows of one worker of the handoff: its last load report, and its handoffs
 * not yet written to it. node writes a worker one handle at a time, each once the worker has
 * acknowledged the last (node's own acknowledgement), so a handoff's write completing means the
 * one before it arrived: no acknowledgement of ours is needed per connection, and the primary's
 * copy of a native handle is closed as soon as its write completes (the descriptor travels with
 * the message). At most `WINDOW` handoffs wait in node's queue for a worker (node re-queues
 * every waiting one on each acknowledgement); the oldest waiting for `STALL_MS` makes the worker
 * stalled, passed over (its CPU cannot keep up). The worker's batched reports say what it holds
 * and how many it received, so the load counted is exact but for closes of the last 50 ms.
 */
import type { Worker } from "node:cluster";
import { discard, release, type Accepted } from "./accept.js";
import type { LoadMessage } from "./handoff.js";
import type { WorkerLoad } from "./pick-worker.js";

/** Handoffs waiting to be written to one worker, at most. */
export const WINDOW = 4;

/** How long a handoff may wait to be written before its worker counts as stalled. */
export const STALL_MS = 100;

/** The primary's view of one worker. */
export class WorkerState implements WorkerLoad {
  /** Handoffs since the worker started, less those that failed. */
  private handed = 0;
  /** Handoffs not yet written, oldest first, with the time each was handed. */
  private readonly unwritten: Array<{ accepted: Accepted; at: number }> = [];
  /** The worker's last report. */
  report: LoadMessage = { cinder: "load", held: 0, received: 0, max: 0, full: false };
  /** True once it said it is ready, until it drains. */
  accepting = false;

  constructor(readonly worker: Worker) {}

  get id(): number {
    return this.worker.id;
  }

  /** Handoffs the worker has not reported received yet. */
  get pending(): number {
    return Math.max(0, this.handed - this.report.received);
  }

  get busy(): boolean {
    return this.unwritten.length >= WINDOW;
  }

  get stalled(): boolean {
    const oldest = this.unwritten[0];
    return oldest !== undefined && performance.now() - oldest.at > STALL_MS;
  }

  get open(): number {
    return this.report.held + this.pending;
  }

  get max(): number {
    return this.report.max;
  }

  get full(): boolean {
    return this.report.full;
  }

  /** Records the handoff of `accepted`, handed to node to send now. */
  sending(accepted: Accepted): void {
    this.handed++;
    this.unwritten.push({ accepted, at: performance.now() });
  }

  /**
   * The write of `accepted` completed (`error` null: the primary's copy is let go) or failed (the
   * worker's channel closed: the connection is closed). False when it was already dropped.
   */
  written(accepted: Accepted, error: Error | null): boolean {
    const index = this.unwritten.findIndex((entry) => entry.accepted === accepted);
    if (index < 0) return false;
    this.unwritten.splice(index, 1);
    if (error === null) release(accepted);
    else {
      this.handed--;
      discard(accepted);
    }
    return true;
  }

  /** Takes a report. */
  take(report: LoadMessage): void {
    this.report = report;
    if (report.received > this.handed) this.handed = report.received;
  }

  /** The worker is gone: closes the connections still waiting to be written to it. */
  dropAll(): void {
    for (const { accepted } of this.unwritten.splice(0)) discard(accepted);
  }
}
