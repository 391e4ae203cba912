/**
 * Heartbeats: every interval after the connection opened (or after the last heartbeat reply),
 * send a `heartbeat` on topic "phoenix" and expect its reply within the same interval; if none
 * comes, report a timeout so the socket can close, error its channels and reconnect.
 */

/** Drives the heartbeat timers of one socket. */
export class Heartbeat {
  /** The ref of the heartbeat awaiting its reply, or null. */
  pendingRef: string | null = null;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #timeoutTimer: ReturnType<typeof setTimeout> | undefined;

  /**
   * @param intervalMs the interval (and timeout) in ms
   * @param send sends a heartbeat and returns its ref, or null when it could not be sent
   * @param onTimeout called when a heartbeat got no reply in time
   */
  constructor(
    private readonly intervalMs: () => number,
    private readonly send: () => string | null,
    private readonly onTimeout: () => void,
  ) {}

  /** Schedules the next heartbeat one interval from now (cancelling any pending one). */
  schedule(): void {
    this.stop();
    this.#timer = setTimeout(() => this.#beat(), this.intervalMs());
  }

  /** Notes an incoming message ref: the reply to the pending heartbeat schedules the next one. */
  received(ref: string | null): void {
    if (ref !== null && ref === this.pendingRef) this.schedule();
  }

  /** Stops both timers and forgets the pending heartbeat (a late reply then changes nothing). */
  stop(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    if (this.#timeoutTimer !== undefined) clearTimeout(this.#timeoutTimer);
    this.#timer = undefined;
    this.#timeoutTimer = undefined;
    this.pendingRef = null;
  }

  #beat(): void {
    this.#timer = undefined;
    const ref = this.send();
    if (ref === null) return;
    this.pendingRef = ref;
    this.#timeoutTimer = setTimeout(() => {
      this.#timeoutTimer = undefined;
      if (this.pendingRef !== ref) return;
      this.pendingRef = null;
      this.onTimeout();
    }, this.intervalMs());
  }
}
