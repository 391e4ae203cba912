/**
 * Per-connection limits: token buckets for joins and for messages. A bucket holds up to `burst`
 * tokens and refills at `perSecond`; a join or message that finds it empty is refused with
 * `{"reason":"rate_limited"}`, and a connection that keeps going over (`disconnectAfter`
 * refusals in a row) is closed.
 */

/** A rate: sustained `perSecond`, with bursts of up to `burst`. */
export interface Rate {
  perSecond: number;
  burst: number;
}

/** A token bucket; `take()` is O(1) and reads the clock lazily. */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(private readonly rate: Rate, private readonly now: () => number = performance.now.bind(performance)) {
    this.tokens = rate.burst;
    this.last = now();
  }

  /** Takes a token; false when the bucket is empty. */
  take(): boolean {
    const now = this.now();
    this.tokens = Math.min(this.rate.burst, this.tokens + ((now - this.last) / 1000) * this.rate.perSecond);
    this.last = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
