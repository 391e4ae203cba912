/**
 * A topic's key → metas, built when first read. `handleMetas` hands one to the hook after every
 * diff window: building the whole list each time costs O(members) per window on every node, which
 * for a topic of 100,000 members is most of a process; a hook that only looks at the diff (or
 * at counts) now pays nothing for it. The list is built at the first read, from the state at that
 * moment, and kept for later reads of the same object.
 */
import type { Meta } from "./wire.js";

/** A read-only key → metas map whose contents come from `build`, called once, at the first read. */
export class LazyList implements ReadonlyMap<string, readonly Meta[]> {
  private built: Map<string, Meta[]> | undefined;

  /** `build` returns the topic's key → metas now. */
  constructor(private readonly build: () => Map<string, Meta[]>) {}

  private get map(): Map<string, Meta[]> {
    return (this.built ??= this.build());
  }

  /** Number of keys. */
  get size(): number {
    return this.map.size;
  }

  /** The metas of `key`, or undefined when the key is absent. */
  get(key: string): readonly Meta[] | undefined {
    return this.map.get(key);
  }

  /** Whether `key` is present. */
  has(key: string): boolean {
    return this.map.has(key);
  }

  /** Calls `callback` for each key, in the list's order. */
  forEach(callback: (metas: readonly Meta[], key: string, map: ReadonlyMap<string, readonly Meta[]>) => void, thisArg?: unknown): void {
    for (const [key, metas] of this.map) callback.call(thisArg, metas, key, this);
  }

  /** [key, metas] pairs. */
  entries(): MapIterator<[string, readonly Meta[]]> {
    return this.map.entries();
  }

  /** The keys. */
  keys(): MapIterator<string> {
    return this.map.keys();
  }

  /** The metas of each key. */
  values(): MapIterator<readonly Meta[]> {
    return this.map.values();
  }

  /** [key, metas] pairs. */
  [Symbol.iterator](): MapIterator<[string, readonly Meta[]]> {
    return this.map[Symbol.iterator]();
  }
}
