/**
 * What the primary knows of one worker of the handoff: its last load report, and its handoffs in
 * flight — at most `WINDOW` at once, in order, each released (the primary's copy of a native
 * handle closed) once a report says the worker received it. The oldest unacknowledged for
 * `STALL_MS` makes the worker stalled (passed over, its CPU cannot keep up); for `LOST_MS`, lost
 * (node drops a handle the worker could not take): closed and forgotten.
 */
import type { Worker } from "node:cluster";
import { discard, release, type Accepted } from "./accept.js";
import type { LoadMessage } from "./handoff.js";
import type { WorkerLoad } from "./pick-worker.js";

/**
 * Handoffs in flight to one worker at most. node sends a worker one handle at a time, each after
 * the worker acknowledged the last, and re-queues every waiting one on each acknowledgement, so a
 * few queued there keep the pipe busy while the worker's report is on its way, and many cost.
 */
export const WINDOW = 4;

/** How long a handoff may stay unacknowledged before its worker counts as stalled. */
export const STALL_MS = 100;

/** How long before an unacknowledged handoff counts as lost. */
export const LOST_MS = 10_000;

/** The primary's view of one worker. */
export class WorkerState implements WorkerLoad {
  /** Handoffs sent since the worker started (the lost ones forgotten). */
  private sent = 0;
  /** Handoffs not yet reported received, oldest first, with the time each was sent. */
  private readonly inflight: Array<{ accepted: Accepted; at: number }> = [];
  /** The worker's last report. */
  report: LoadMessage = { cinder: "load", held: 0, received: 0, max: 0, full: false };
  /** True once it said it is ready, until it drains. */
  accepting = false;

  constructor(readonly worker: Worker) {}

  get id(): number {
    return this.worker.id;
  }

  /** Handoffs not yet reported received. */
  get pending(): number {
    return this.inflight.length;
  }

  get busy(): boolean {
    return this.inflight.length >= WINDOW;
  }

  get stalled(): boolean {
    const oldest = this.inflight[0];
    return oldest !== undefined && performance.now() - oldest.at > STALL_MS;
  }

  get open(): number {
    return this.report.held + this.inflight.length;
  }

  get max(): number {
    return this.report.max;
  }

  get full(): boolean {
    return this.report.full;
  }

  /** Records the handoff of `accepted`, being sent now. */
  sending(accepted: Accepted): void {
    this.sent++;
    this.inflight.push({ accepted, at: performance.now() });
  }

  /** Takes a report, releasing the handoffs it says the worker received. */
  take(report: LoadMessage): void {
    this.report = report;
    while (this.inflight.length > 0 && this.sent - this.inflight.length < report.received) release(this.inflight.shift()!.accepted);
    // Received after all, though counted lost.
    if (report.received > this.sent) this.sent = report.received;
  }

  /** Forgets the handoff of `accepted`, which failed to send; false when it is not in flight. */
  failed(accepted: Accepted): boolean {
    const index = this.inflight.findIndex((entry) => entry.accepted === accepted);
    if (index < 0) return false;
    this.inflight.splice(index, 1);
    this.sent--;
    return true;
  }

  /** Closes and forgets the handoffs in flight when the oldest is lost; returns how many. */
  dropLost(now: number): number {
    const oldest = this.inflight[0];
    if (oldest === undefined || now - oldest.at < LOST_MS) return 0;
    return this.dropAll();
  }

  /** Closes and forgets every handoff in flight (the worker is gone, or they are lost); returns how many. */
  dropAll(): number {
    const count = this.inflight.length;
    for (const { accepted } of this.inflight.splice(0)) discard(accepted);
    this.sent = this.report.received;
    return count;
  }
}
