/**
 * Per-connection limits: token buckets for joins, messages and heartbeats. A bucket holds up to
 * `burst` tokens and refills at `perSecond`; a join, message or heartbeat that finds it empty is
 * refused with `{"reason":"rate_limited"}`. Refusals themselves draw on a budget (`RefusalBudget`:
 * `refusals` per `windowMs`, as a bucket), so a connection whose refusal rate stays over it is
 * closed however it paces its flood, while one that only brushes the limit now and then is not.
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

/** How many rate-limit refusals a connection may earn per window before it is closed. */
export interface RefusalWindow {
  /** Refusals allowed per window (and at once). */
  refusals: number;
  /** The window in milliseconds. */
  windowMs: number;
}

/**
 * The refusal budget of one connection: a token bucket of `refusals` tokens refilling at
 * `refusals / windowMs`. A flood refused R times a second is closed within about
 * `refusals / (R - refusals / windowMs)` seconds, whether or not some of it slips through.
 */
export class RefusalBudget {
  private readonly bucket: TokenBucket;

  constructor(window: RefusalWindow, now?: () => number) {
    this.bucket = new TokenBucket({ perSecond: (window.refusals * 1000) / window.windowMs, burst: window.refusals }, now);
  }

  /** Records one refusal; false when the budget is spent (close the connection). */
  spend(): boolean {
    return this.bucket.take();
  }
}
