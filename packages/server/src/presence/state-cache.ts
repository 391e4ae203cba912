/**
 * The `presence_state` cache: a topic's list encoded once per change and reused for every joiner
 * until the next change (docs/presence.md "presence_state once per change"). Each key's entry
 * (decorated by `fetch`) is kept as its encoded `"key":{...}` bytes; a change marks only the keys
 * it touched stale, and the next request re-decorates and re-encodes those keys alone. Keys that
 * joined are appended behind the bytes already handed out (in a buffer with room to grow, so a
 * join storm copies each key's bytes about twice in all, not once per joiner); a key that changed
 * or left makes a fresh splice of every key's bytes. The payload (a view of that buffer, then `}`)
 * is shared by every joiner until the next change, and frames point at it rather than copy it
 * (`Frame.textParts`). Only topics
 * someone asked for are cached; a topic's cache goes when its last key leaves.
 */
import { EncodedJson } from "../serializer/index.js";
import type { Diff } from "./state.js";

/** What the cache reads: the topic's keys now, and a decorated presence map of some keys. */
export interface StateSource {
  /** The keys present on `topic` now. */
  keys(topic: string): Iterable<string>;
  /** How many keys are present on `topic` now. */
  countKeys(topic: string): number;
  /** The decorated entries of `keys` on `topic` (keys absent now are absent from the result). */
  decorate(topic: string, keys: readonly string[]): Promise<Record<string, unknown>>;
}

const OPEN = 0x7b; // {
const COMMA = 0x2c; // ,
const CLOSE = Buffer.from("}");

/** Re-reads tried while changes keep landing during an async `fetch` before one read goes uncached. */
const MAX_ATTEMPTS = 3;

/** One topic's cache: encoded entries by key, the keys changed since, and the spliced payload. */
class TopicCache {
  readonly fragments = new Map<string, Buffer>();
  /** Keys changed since their fragment was made (all keys, for a new cache). */
  stale: Set<string> | "all" = "all";
  whole: EncodedJson | undefined;
  building: Promise<EncodedJson> | undefined;
  /** Bumped on every change, so a build that raced a change is not stored as current. */
  generation = 0;
  /**
   * The list's bytes without its closing brace (`{` then the fragments joined by `,`), with room
   * to append at the end: bytes up to `used` are never written again, so every payload handed out
   * (a view of them) stays valid while later joins are appended behind it.
   */
  arena: Buffer | undefined;
  used = 0;
}

/** Encoded `presence_state` payloads per topic, invalidated by the tracker's diffs. */
export class StateCache {
  private readonly topics = new Map<string, TopicCache>();

  constructor(private readonly source: StateSource) {}

  /** Marks the keys a tracker diff touched as stale (call for every diff, synchronously). */
  invalidate(diff: Diff): void {
    for (const side of [diff.joins, diff.leaves]) {
      for (const entry of side) {
        const cache = this.topics.get(entry.topic);
        if (cache === undefined) continue;
        cache.generation++;
        cache.whole = undefined;
        if (cache.stale !== "all") cache.stale.add(entry.key);
      }
    }
    for (const side of [diff.joins, diff.leaves]) {
      for (const entry of side) {
        if (this.topics.has(entry.topic) && this.source.countKeys(entry.topic) === 0) this.topics.delete(entry.topic);
      }
    }
  }

  /** The topic's list, encoded; the same bytes until the topic changes. */
  async encoded(topic: string): Promise<EncodedJson> {
    let cache = this.topics.get(topic);
    if (cache === undefined) {
      cache = new TopicCache();
      this.topics.set(topic, cache);
    }
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      if (cache.whole !== undefined) return cache.whole;
      const generation = cache.generation;
      cache.building ??= this.build(topic, cache).finally(() => { cache.building = undefined; });
      const built = await cache.building;
      if (cache.generation === generation || cache.whole === built) return built;
    }
    // Changes kept landing while `fetch` ran: this caller gets what the last build read.
    return cache.whole ?? (await this.build(topic, cache));
  }

  /** Drops every topic's cache. */
  clear(): void {
    this.topics.clear();
  }

  /** Drops a topic's cache (its keys are all gone, or `fetch`'s data changed). */
  forget(topic: string): void {
    this.topics.delete(topic);
  }

  /** Re-decorates the stale keys, then splices every key's bytes; stores the result if no change raced it. */
  private async build(topic: string, cache: TopicCache): Promise<EncodedJson> {
    const generation = cache.generation;
    const staleKeys = cache.stale === "all" ? [...this.source.keys(topic)] : [...cache.stale];
    cache.stale = new Set();
    const decorated = staleKeys.length === 0 ? {} : await this.source.decorate(topic, staleKeys);
    // Keys new since the last splice are appended behind it; a key that changed or left means a
    // fresh splice (into a new buffer: the old one is still shared by payloads handed out).
    let splice = cache.arena === undefined;
    const appended: Buffer[] = [];
    for (const key of staleKeys) {
      // A key changed again while `fetch` ran stays stale; its fragment is made by the next build.
      if (cache.stale.has(key)) continue;
      const entry = decorated[key];
      const had = cache.fragments.has(key);
      if (entry === undefined) {
        if (had) {
          cache.fragments.delete(key);
          splice = true;
        }
        continue;
      }
      const fragment = Buffer.from(`${JSON.stringify(key)}:${JSON.stringify(entry)}`, "utf8");
      cache.fragments.set(key, fragment);
      if (had) splice = true;
      else appended.push(fragment);
    }
    if (cache.fragments.size === 0 && cache.stale.size === 0) {
      this.topics.delete(topic);
      return new EncodedJson(Buffer.from("{}"));
    }
    if (splice) this.splice(cache);
    else this.append(cache, appended);
    const whole = new EncodedJson([cache.arena!.subarray(0, cache.used), CLOSE]);
    if (cache.generation === generation) cache.whole = whole;
    return whole;
  }

  /** Writes every fragment into a new buffer, with room to append. */
  private splice(cache: TopicCache): void {
    let length = 1;
    for (const fragment of cache.fragments.values()) length += fragment.length + 1;
    const arena = Buffer.allocUnsafe(roomFor(length));
    arena[0] = OPEN;
    let at = 1;
    for (const fragment of cache.fragments.values()) {
      if (at > 1) arena[at++] = COMMA;
      at += fragment.copy(arena, at);
    }
    cache.arena = arena;
    cache.used = at;
  }

  /** Appends new keys' fragments behind the bytes already handed out (moving to a larger buffer when full). */
  private append(cache: TopicCache, fragments: readonly Buffer[]): void {
    if (fragments.length === 0) return;
    let need = 0;
    for (const fragment of fragments) need += fragment.length + 1;
    let arena = cache.arena!;
    if (cache.used + need > arena.length) {
      const larger = Buffer.allocUnsafe(roomFor(cache.used + need));
      arena.copy(larger, 0, 0, cache.used);
      arena = cache.arena = larger;
    }
    let at = cache.used;
    for (const fragment of fragments) {
      if (at > 1) arena[at++] = COMMA;
      at += fragment.copy(arena, at);
    }
    cache.used = at;
  }
}

/** A buffer size for `length` bytes with room to grow (doubling, so appends copy O(total) bytes). */
function roomFor(length: number): number {
  return Math.max(4096, length * 2);
}
