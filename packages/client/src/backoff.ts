/**
 * Retry delays: jittered exponential (reconnects) and jittered stepped (rejoins) backoffs, and
 * the small timer that counts tries and schedules the next attempt.
 *
 * Jitter matters for reconnects: after a deploy every client loses its connection at the same
 * moment, and fixed delays would bring them all back at the same moment too.
 */

/** Options of `exponentialBackoff`. */
export interface ExponentialBackoffOptions {
  /** The base delay of the first try, in ms. */
  readonly baseMs: number;
  /** The largest base delay, in ms (the jittered delay can exceed it by `jitter`). */
  readonly maxMs: number;
  /** Growth of the base delay per try. Default 2. */
  readonly factor?: number;
  /** Relative spread: a delay is drawn uniformly from base × [1 − jitter, 1 + jitter]. Default 0.5. */
  readonly jitter?: number;
  /** Source of randomness in [0, 1). Default `Math.random`. */
  readonly random?: () => number;
}

/** Draws `base` spread by ±`jitter` (relative), rounded to a whole ms, never below 0. */
function spread(base: number, jitter: number, random: () => number): number {
  const j = Math.min(1, Math.max(0, jitter));
  return Math.max(0, Math.round(base * (1 - j + 2 * j * random())));
}

/** A delay function `(tries) => ms` growing by `factor` from `baseMs` up to `maxMs`, jittered. */
export function exponentialBackoff(options: ExponentialBackoffOptions): (tries: number) => number {
  const { baseMs, maxMs, factor = 2, jitter = 0.5, random = Math.random } = options;
  return (tries) => {
    const exponent = Math.max(0, Math.min(tries - 1, 64));
    return spread(Math.min(maxMs, baseMs * factor ** exponent), jitter, random);
  };
}

/**
 * A delay function `(tries) => ms` using `steps[tries - 1]` (then the last step) plus up to
 * `jitter` (relative) at random: never shorter than the step.
 */
export function steppedBackoff(steps: readonly number[], jitter = 0.25, random: () => number = Math.random): (tries: number) => number {
  if (steps.length === 0) throw new RangeError("steppedBackoff needs at least one step");
  return (tries) => {
    const step = steps[Math.min(Math.max(tries, 1), steps.length) - 1] ?? 0;
    return Math.round(step * (1 + Math.max(0, jitter) * random()));
  };
}

/**
 * Default reconnect delays: 300 ms doubling per try up to 10 s, each ±50 % at random —
 * 150–450 ms, 300–900 ms, 0.6–1.8 s, 1.2–3.6 s, 2.4–7.2 s, 4.8–14.4 s, then 5–15 s.
 */
export const defaultReconnectAfterMs: (tries: number) => number =
  exponentialBackoff({ baseMs: 300, maxMs: 10_000, factor: 2, jitter: 0.5 });

/** Default rejoin delays: phoenix's 1 s, 2 s, 5 s, then every 10 s, each plus 0–25 % at random. */
export const defaultRejoinAfterMs: (tries: number) => number = steppedBackoff([1000, 2000, 5000, 10_000], 0.25);

/** Schedules a callback after `delay(tries)`, counting tries until `reset`. */
export class RetryTimer {
  /** Attempts made since the last reset. */
  tries = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly callback: () => void, private readonly delay: (tries: number) => number) {}

  /** Cancels the pending attempt and starts counting from zero again. */
  reset(): void {
    this.tries = 0;
    this.cancel();
  }

  /** Cancels the pending attempt, keeping the count. */
  cancel(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** True while an attempt is scheduled. */
  get pending(): boolean {
    return this.timer !== undefined;
  }

  /** (Re)schedules the next attempt after `delay(tries + 1)` ms. */
  schedule(): void {
    this.cancel();
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.tries += 1;
      this.callback();
    }, this.delay(this.tries + 1));
  }
}
