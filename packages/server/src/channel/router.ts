/**
 * Topic routing: maps a topic to the channel declared for it. Patterns are exact topics
 * (`"system"`) or prefixes ending in `*` (`"room:*"` matches every topic starting with
 * `room:`); exact matches win, then prefixes in declaration order.
 */
import type { AnyChannelDefinition } from "./definition.js";

/** A compiled table of topic patterns. */
export class ChannelRouter {
  private readonly exact = new Map<string, AnyChannelDefinition>();
  private readonly prefixes: Array<[prefix: string, channel: AnyChannelDefinition]> = [];

  constructor(routes: Record<string, AnyChannelDefinition>) {
    for (const [pattern, channel] of Object.entries(routes)) {
      const star = pattern.indexOf("*");
      if (star === -1) this.exact.set(pattern, channel);
      else if (star === pattern.length - 1) this.prefixes.push([pattern.slice(0, -1), channel]);
      else throw new Error(`invalid topic pattern "${pattern}": "*" is only allowed at the end`);
    }
  }

  /** The channel for `topic`, or undefined when nothing matches. */
  match(topic: string): AnyChannelDefinition | undefined {
    const exact = this.exact.get(topic);
    if (exact !== undefined) return exact;
    for (const [prefix, channel] of this.prefixes) {
      if (topic.startsWith(prefix)) return channel;
    }
    return undefined;
  }

  /** The pattern that matches `topic` (for metrics and logs), or undefined. */
  patternOf(topic: string): string | undefined {
    if (this.exact.has(topic)) return topic;
    for (const [prefix] of this.prefixes) {
      if (topic.startsWith(prefix)) return `${prefix}*`;
    }
    return undefined;
  }
}
