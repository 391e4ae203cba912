/**
 * `MemoryHistory`: the single-node history store. Each stream topic keeps its epoch, its last
 * offset and its most recent publications in arrival order; offsets are contiguous, so a read
 * from an offset is one index computation. A stream idle (no publication, no read) for longer
 * than its TTL is forgotten by a periodic sweep; it comes back with a new epoch. Everything is
 * lost when the process ends, which the new epoch tells the clients that come back.
 */
import { newEpoch, type Publication, type StreamPosition } from "./position.js";
import type { HistoryRead, HistoryStore, StreamLimits } from "./store.js";

interface Entry {
  readonly publication: Publication;
  readonly at: number;
}

interface Stream {
  readonly epoch: string;
  offset: number;
  /** Publications in offset order; entries[i] has offset `offset - entries.length + 1 + i`. */
  entries: Entry[];
  /** Where the kept entries begin in `entries` (dropped ones are compacted lazily). */
  head: number;
  ttlMs: number;
  touched: number;
}

/** Options of a `MemoryHistory`. */
export interface MemoryHistoryOptions {
  /** How often idle streams are looked for, in milliseconds. Default 30,000. */
  sweepIntervalMs?: number;
  /** The clock (milliseconds), for tests of expiry. Default `Date.now`. */
  now?: () => number;
}

/** A history store in this process's memory. */
export class MemoryHistory implements HistoryStore {
  readonly deliversItself = false;
  private readonly streams = new Map<string, Stream>();
  private readonly now: () => number;
  private readonly sweeper: NodeJS.Timeout;

  constructor(options: MemoryHistoryOptions = {}) {
    this.now = options.now ?? Date.now;
    this.sweeper = setInterval(() => this.sweep(), options.sweepIntervalMs ?? 30_000);
    this.sweeper.unref();
  }

  /** The number of streams held (for tests and metrics). */
  get streamCount(): number {
    return this.streams.size;
  }

  /** The number of publications held across all streams. */
  get publicationCount(): number {
    let count = 0;
    for (const stream of this.streams.values()) count += stream.entries.length - stream.head;
    return count;
  }

  append(topic: string, event: string, payload: unknown, limits: StreamLimits): Publication {
    const stream = this.stream(topic, limits);
    stream.offset += 1;
    const publication: Publication = { topic, event, payload, position: { epoch: stream.epoch, offset: stream.offset } };
    stream.entries.push({ publication, at: stream.touched });
    this.trim(stream, limits);
    return publication;
  }

  since(topic: string, from: StreamPosition, limits: StreamLimits): HistoryRead {
    const stream = this.stream(topic, limits);
    this.trim(stream, limits);
    const position = { epoch: stream.epoch, offset: stream.offset };
    if (from.epoch !== stream.epoch || from.offset > stream.offset) return { kind: "gap", position };
    const kept = stream.entries.length - stream.head;
    const first = stream.offset - kept + 1;
    if (from.offset + 1 < first) return { kind: "gap", position };
    const start = stream.head + (from.offset + 1 - first);
    return { kind: "complete", publications: stream.entries.slice(start).map((entry) => entry.publication), position };
  }

  last(topic: string, count: number, limits: StreamLimits): HistoryRead {
    const stream = this.stream(topic, limits);
    this.trim(stream, limits);
    const start = Math.max(stream.head, stream.entries.length - Math.max(0, Math.floor(count)));
    return {
      kind: "complete",
      publications: stream.entries.slice(start).map((entry) => entry.publication),
      position: { epoch: stream.epoch, offset: stream.offset },
    };
  }

  close(): void {
    clearInterval(this.sweeper);
    this.streams.clear();
  }

  /** The stream of `topic`, created with a new epoch when there is none; marks it used. */
  private stream(topic: string, limits: StreamLimits): Stream {
    const now = this.now();
    let stream = this.streams.get(topic);
    if (stream !== undefined && now - stream.touched > stream.ttlMs) {
      this.streams.delete(topic);
      stream = undefined;
    }
    if (stream === undefined) {
      stream = { epoch: newEpoch(), offset: 0, entries: [], head: 0, ttlMs: limits.ttlMs, touched: now };
      this.streams.set(topic, stream);
    }
    stream.touched = now;
    stream.ttlMs = limits.ttlMs;
    return stream;
  }

  /** Drops publications beyond `size` or older than `ttlMs`. */
  private trim(stream: Stream, limits: StreamLimits): void {
    const oldest = stream.touched - limits.ttlMs;
    const keepFrom = stream.entries.length - limits.size;
    while (stream.head < stream.entries.length && (stream.head < keepFrom || stream.entries[stream.head]!.at < oldest)) {
      stream.head++;
    }
    if (stream.head > 64 && stream.head * 2 > stream.entries.length) {
      stream.entries = stream.entries.slice(stream.head);
      stream.head = 0;
    }
  }

  private sweep(): void {
    const now = this.now();
    for (const [topic, stream] of this.streams) {
      if (now - stream.touched > stream.ttlMs) this.streams.delete(topic);
    }
  }
}
