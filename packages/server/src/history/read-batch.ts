/**
 * `SinceReads`: coalesces `since` reads of one topic and epoch into one store read. When a node
 * dies, its clients come back to the survivors at once, and each rejoin asks a shared store for
 * what it missed, mostly from the same few positions; one read from the lowest of them answers
 * them all (each gets the publications after its own position), decoded once and shared.
 *
 * Correctness rests on one rule: a request is answered only by a read issued after it was made.
 * A joining channel subscribes before it asks, so such a read sees every publication the channel
 * might otherwise miss. Requests that arrive while a read of their topic is in flight wait for
 * the next read, which is issued when the first answers; requests made in one turn of the event
 * loop are issued together at its end (`setImmediate`).
 *
 * From one read after the lowest offset `m` the store answers (docs/recovery.md):
 * - complete: a request after `f >= m` is complete with the publications after `f`, or a gap
 *   when `f` is beyond the current offset (what the store itself would answer);
 * - a gap: when `m` is older than the history, a later `f` may still be readable, so those
 *   requests are read one by one; when the epoch is not the stream's, or `m` is beyond the
 *   current offset, every request of the batch is a gap too.
 */
import type { StreamPosition } from "./position.js";
import type { HistoryRead, HistoryStore, StreamLimits } from "./store.js";

interface Waiter {
  readonly offset: number;
  readonly resolve: (read: HistoryRead) => void;
  readonly reject: (error: unknown) => void;
}

interface Batch {
  readonly topic: string;
  readonly epoch: string;
  readonly limits: StreamLimits;
  readonly waiters: Waiter[];
}

/** Coalesces concurrent `since` reads of a history store (see the module comment). */
export class SinceReads {
  /** Batches not yet issued, by topic and epoch. */
  private readonly pending = new Map<string, Batch>();
  /** Keys with a read issued and not answered yet. */
  private readonly inFlight = new Set<string>();
  /** Store reads issued (for tests and metrics). */
  storeReads = 0;

  constructor(private readonly store: HistoryStore) {}

  /** Everything after `from` on `topic`, or a gap: what `store.since` answers, coalesced. */
  since(topic: string, from: StreamPosition, limits: StreamLimits): Promise<HistoryRead> {
    const key = `${from.epoch}\u0000${topic}`;
    let batch = this.pending.get(key);
    if (batch === undefined) {
      batch = { topic, epoch: from.epoch, limits, waiters: [] };
      this.pending.set(key, batch);
      if (!this.inFlight.has(key)) setImmediate(() => this.issue(key));
    }
    const waiters = batch.waiters;
    return new Promise((resolve, reject) => waiters.push({ offset: from.offset, resolve, reject }));
  }

  private issue(key: string): void {
    const batch = this.pending.get(key);
    if (batch === undefined || this.inFlight.has(key)) return;
    this.pending.delete(key);
    this.inFlight.add(key);
    let lowest = batch.waiters[0]!.offset;
    for (const waiter of batch.waiters) if (waiter.offset < lowest) lowest = waiter.offset;
    this.storeReads++;
    Promise.resolve()
      .then(() => this.store.since(batch.topic, { epoch: batch.epoch, offset: lowest }, batch.limits))
      .then((read) => this.answer(batch, lowest, read), (error: unknown) => {
        for (const waiter of batch.waiters) waiter.reject(error);
      })
      .finally(() => {
        this.inFlight.delete(key);
        if (this.pending.has(key)) this.issue(key);
      });
  }

  private answer(batch: Batch, lowest: number, read: HistoryRead): void {
    const current = read.position;
    if (read.kind === "gap") {
      // Another epoch, or beyond the current offset: a gap for every later position too.
      const all = current.epoch !== batch.epoch || lowest > current.offset;
      for (const waiter of batch.waiters) {
        if (all || waiter.offset === lowest) waiter.resolve(read);
        else this.readAlone(batch, waiter);
      }
      return;
    }
    const publications = read.publications;
    for (const waiter of batch.waiters) {
      if (waiter.offset > current.offset) {
        waiter.resolve({ kind: "gap", position: current });
        continue;
      }
      // Publications are contiguous in offset order: the first after `waiter.offset` by index.
      let skip = publications.length === 0 ? 0 : Math.min(publications.length, Math.max(0, waiter.offset - publications[0]!.position.offset + 1));
      while (skip < publications.length && publications[skip]!.position.offset <= waiter.offset) skip++;
      while (skip > 0 && publications[skip - 1]!.position.offset > waiter.offset) skip--;
      waiter.resolve({ kind: "complete", publications: skip === 0 ? publications : publications.slice(skip), position: current });
    }
  }

  /** A request the batch's read could not answer (its position may be readable when the lowest was not). */
  private readAlone(batch: Batch, waiter: Waiter): void {
    this.storeReads++;
    Promise.resolve()
      .then(() => this.store.since(batch.topic, { epoch: batch.epoch, offset: waiter.offset }, batch.limits))
      .then(waiter.resolve, waiter.reject);
  }
}
