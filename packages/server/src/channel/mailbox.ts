/**
 * A channel's mailbox: tasks run one at a time, in order, each finishing (async included)
 * before the next starts, so a channel's state is never interleaved. Closing drops what is
 * queued and runs a final task once the task in flight settles (or after a grace period, so
 * a handler that never settles cannot keep a channel's resources alive).
 */

/** A unit of work for a mailbox. */
export type Task = () => unknown;

/** A serial task queue. */
export class Mailbox {
  private readonly queue: Task[] = [];
  private running = false;
  private closed = false;
  private final: Task | undefined;
  private finalTimer: NodeJS.Timeout | undefined;

  constructor(private readonly onError: (error: unknown) => void) {}

  /** True once `close` was called. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** Queues a task; returns false (and drops it) when the mailbox is closed. */
  post(task: Task): boolean {
    if (this.closed) return false;
    this.queue.push(task);
    if (!this.running) void this.drain();
    return true;
  }

  /**
   * Closes the mailbox: queued tasks are dropped; `final` runs after the task in flight
   * settles, or after `graceMs` if it does not.
   */
  close(final: Task, graceMs: number): void {
    if (this.closed) return;
    this.closed = true;
    this.queue.length = 0;
    this.final = final;
    if (this.running) {
      this.finalTimer = setTimeout(() => this.runFinal(), graceMs);
      this.finalTimer.unref();
    } else {
      queueMicrotask(() => this.runFinal());
    }
  }

  private runFinal(): void {
    const final = this.final;
    if (final === undefined) return;
    this.final = undefined;
    if (this.finalTimer !== undefined) clearTimeout(this.finalTimer);
    void this.runGuarded(final);
  }

  private async runGuarded(task: Task): Promise<void> {
    try {
      const result = task();
      if (result instanceof Promise) await result;
    } catch (error) {
      this.onError(error);
    }
  }

  private async drain(): Promise<void> {
    this.running = true;
    while (this.queue.length > 0 && !this.closed) {
      const task = this.queue.shift()!;
      try {
        const result = task();
        if (result instanceof Promise) await result;
      } catch (error) {
        this.onError(error);
      }
    }
    this.running = false;
    if (this.closed) this.runFinal();
  }
}
