/**
 * Sign-in throttling and the password-hashing limit. `SignInThrottle` counts sign-in attempts per
 * account and per address in a fixed window and refuses more than the limits — checked before any
 * hashing, so refused attempts cost nothing; a successful sign-in clears its account's count.
 * `Limiter` runs at most N tasks at once (it bounds the password hashes in flight, each on a
 * hashing thread of its own: hash-workers.ts).
 */

/** The throttle's limits. */
export interface ThrottleLimits {
  /** Attempts per account per window (default 10). */
  perAccount: number;
  /** Attempts per client address per window (default 50). */
  perAddress: number;
  /** The window, in ms (default 15 minutes). */
  windowMs: number;
}

/** The defaults (see the README). */
export const DEFAULT_THROTTLE: ThrottleLimits = { perAccount: 10, perAddress: 50, windowMs: 15 * 60_000 };

/** Whether an attempt may go ahead, or when to try again. */
export type ThrottleVerdict = { ok: true } | { ok: false; scope: "account" | "address"; retryAfterS: number };

interface Window {
  count: number;
  resetAt: number;
}

/** Counts sign-in attempts per account and per address. */
export class SignInThrottle {
  private readonly accounts = new Map<string, Window>();
  private readonly addresses = new Map<string, Window>();

  constructor(private readonly limits: ThrottleLimits = DEFAULT_THROTTLE, private readonly now: () => number = Date.now) {}

  /** Records an attempt for `account` from `address`, unless a limit is reached (then nothing is recorded). */
  attempt(account: string, address: string): ThrottleVerdict {
    const now = this.now();
    const byAccount = this.window(this.accounts, account, now);
    const byAddress = this.window(this.addresses, address, now);
    if (byAccount.count >= this.limits.perAccount) return { ok: false, scope: "account", retryAfterS: Math.ceil((byAccount.resetAt - now) / 1000) };
    if (byAddress.count >= this.limits.perAddress) return { ok: false, scope: "address", retryAfterS: Math.ceil((byAddress.resetAt - now) / 1000) };
    byAccount.count += 1;
    byAddress.count += 1;
    return { ok: true };
  }

  /** Clears an account's count after a successful sign-in. */
  succeeded(account: string): void {
    this.accounts.delete(account);
  }

  private window(map: Map<string, Window>, key: string, now: number): Window {
    let window = map.get(key);
    if (window === undefined || window.resetAt <= now) {
      if (map.size > 10_000) for (const [k, w] of map) if (w.resetAt <= now) map.delete(k);
      window = { count: 0, resetAt: now + this.limits.windowMs };
      map.set(key, window);
    }
    return window;
  }
}

/** Runs at most `concurrency` tasks at once; the rest wait in order. */
export class Limiter {
  private active = 0;
  private readonly waiting: Array<() => void> = [];
  /** The most tasks ever running at once. */
  peak = 0;

  /** How many tasks may run at once (may be changed; applies to tasks not yet started). */
  constructor(public concurrency: number) {}

  /** Runs `task` when a slot is free. */
  async run<T>(task: () => Promise<T>): Promise<T> {
    // A finishing task hands its slot straight to the next waiter, so `active` never overshoots.
    if (this.active >= this.concurrency) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.active += 1;
    this.peak = Math.max(this.peak, this.active);
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      if (next !== undefined) next();
      else this.active -= 1;
    }
  }
}
