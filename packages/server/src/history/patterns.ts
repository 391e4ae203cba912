/**
 * Topic patterns, as channels are routed: an exact topic (`"system"`) or a prefix ending in `*`
 * (`"room:*"` matches every topic starting with `room:`). Exact matches win, then prefixes in
 * the order they were added.
 */

/** A table from topic patterns to values. */
export class TopicPatterns<T> {
  private readonly exact = new Map<string, T>();
  private readonly prefixes: Array<[prefix: string, value: T]> = [];

  /** True when no pattern was added. */
  get empty(): boolean {
    return this.exact.size === 0 && this.prefixes.length === 0;
  }

  /** Adds `pattern`; throws for a `*` anywhere but at the end. A pattern added twice keeps the last value. */
  add(pattern: string, value: T): void {
    const star = pattern.indexOf("*");
    if (star === -1) {
      this.exact.set(pattern, value);
    } else if (star === pattern.length - 1) {
      const prefix = pattern.slice(0, -1);
      const existing = this.prefixes.findIndex(([p]) => p === prefix);
      if (existing === -1) this.prefixes.push([prefix, value]);
      else this.prefixes[existing] = [prefix, value];
    } else {
      throw new Error(`invalid topic pattern "${pattern}": "*" is only allowed at the end`);
    }
  }

  /** The value for `topic` and the pattern that matched it, or undefined. */
  lookup(topic: string): { readonly pattern: string; readonly value: T } | undefined {
    const exact = this.exact.get(topic);
    if (exact !== undefined) return { pattern: topic, value: exact };
    for (const [prefix, value] of this.prefixes) {
      if (topic.startsWith(prefix)) return { pattern: `${prefix}*`, value };
    }
    return undefined;
  }

  /** The value for `topic`, or undefined. */
  match(topic: string): T | undefined {
    return this.lookup(topic)?.value;
  }
}
