/**
 * What graceful shutdown waits on: a `Map` whose `whenEmpty()` resolves when the last entry is
 * deleted (at once when already empty), so shutdown resolves when the last connection closes or
 * the last channel finishes instead of polling their size. `within` bounds such a wait.
 */

/** A `Map` that can be waited on until it is empty. */
export class DrainingMap<K, V> extends Map<K, V> {
  private waiters: Array<() => void> = [];

  override delete(key: K): boolean {
    const deleted = super.delete(key);
    if (deleted && this.size === 0) this.wake();
    return deleted;
  }

  override clear(): void {
    super.clear();
    this.wake();
  }

  /** Resolves once the map is empty (at once when it is). */
  whenEmpty(): Promise<void> {
    if (this.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve();
  }
}

/** Waits for `promise` for at most `ms` milliseconds; true when it settled in time. */
export async function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => { timer = setTimeout(() => resolve(false), ms); });
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
