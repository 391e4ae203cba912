/**
 * What a history store does: record publications on stream topics, each at the next offset of
 * its topic, and read back what a client missed. A store is bounded per topic by the topic's
 * `StreamLimits`: the last `size` publications, none older than `ttlMs`; a topic with nothing
 * newer than `ttlMs` forgets its stream, so its next publication starts a new epoch.
 *
 * Two kinds of store: a local one (`MemoryHistory`) answers synchronously and PubSub delivers
 * the publication itself; a shared one (Redis) orders publications across nodes and delivers
 * them to every node, this one included, through the adapter (`deliversItself`).
 */
import type { Publication, StreamPosition } from "./position.js";

/** How much history a stream topic keeps. */
export interface StreamLimits {
  /** Publications kept per topic (the most recent ones). */
  readonly size: number;
  /** How long a publication is kept, in milliseconds. */
  readonly ttlMs: number;
}

/** Defaults for `history: {}` on a channel: the last 100 publications, for 5 minutes. */
export const defaultStreamLimits: StreamLimits = { size: 100, ttlMs: 5 * 60_000 };

/** What a read from a position gives. */
export type HistoryRead =
  /** Every publication after the position, in order (maybe none); `position` is the stream's current one. */
  | { readonly kind: "complete"; readonly publications: readonly Publication[]; readonly position: StreamPosition }
  /** The gap cannot be filled (older than the history, or another epoch); `position` is the current one. */
  | { readonly kind: "gap"; readonly position: StreamPosition };

/** A place publications on stream topics are recorded. */
export interface HistoryStore {
  /**
   * True when the store itself delivers each publication to every node, this one included, in
   * stream order (a shared store); false when `append` returns the publication and the caller
   * delivers it.
   */
  readonly deliversItself: boolean;
  /** Records a publication; a local store returns it with its position. */
  append(topic: string, event: string, payload: unknown, limits: StreamLimits, tag?: string): Publication | Promise<Publication | undefined> | undefined;
  /** Everything after `from` on `topic`, or a gap. */
  since(topic: string, from: StreamPosition, limits: StreamLimits): HistoryRead | Promise<HistoryRead>;
  /** The last `count` publications on `topic` (oldest first) and the current position. */
  last(topic: string, count: number, limits: StreamLimits): HistoryRead | Promise<HistoryRead>;
  /** Releases what the store holds (connections, timers). */
  close(): void | Promise<void>;
}
