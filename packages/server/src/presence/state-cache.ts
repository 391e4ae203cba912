/**
 * The `presence_state` cache: a topic's list encoded once per change and reused for every joiner
 * until the next change (docs/presence.md "presence_state once per change"). Each key's entry
 * (decorated by `fetch`) is kept as its encoded `"key":{...}` bytes; a change marks only the keys
 * it touched stale, and the next request re-decorates and re-encodes those keys alone, then
 * splices every key's bytes into one payload that is shared until the next change. Only topics
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

const OPEN = Buffer.from("{");
const COMMA = Buffer.from(",");
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
    for (const key of staleKeys) {
      // A key changed again while `fetch` ran stays stale; its fragment is made by the next build.
      if (cache.stale.has(key)) continue;
      const entry = decorated[key];
      if (entry === undefined) cache.fragments.delete(key);
      else cache.fragments.set(key, Buffer.from(`${JSON.stringify(key)}:${JSON.stringify(entry)}`, "utf8"));
    }
    if (cache.fragments.size === 0 && cache.stale.size === 0) {
      this.topics.delete(topic);
      return new EncodedJson(Buffer.from("{}"));
    }
    const parts: Buffer[] = [OPEN];
    for (const fragment of cache.fragments.values()) {
      if (parts.length > 1) parts.push(COMMA);
      parts.push(fragment);
    }
    parts.push(CLOSE);
    const whole = new EncodedJson(Buffer.concat(parts));
    if (cache.generation === generation) cache.whole = whole;
    return whole;
  }
}
