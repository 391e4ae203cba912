/**
 * Topic routing: maps a topic to the channel declared for it. Patterns are exact topics
 * (`"system"`) or prefixes ending in `*` (`"room:*"` matches every topic starting with
 * `room:`); exact matches win, then prefixes in declaration order.
 */
import { TopicPatterns } from "../history/patterns.js";
import type { AnyChannelDefinition } from "./definition.js";

/** A compiled table of topic patterns. */
export class ChannelRouter {
  private readonly table = new TopicPatterns<AnyChannelDefinition>();

  constructor(routes: Record<string, AnyChannelDefinition>) {
    for (const [pattern, channel] of Object.entries(routes)) this.table.add(pattern, channel);
  }

  /** The channel for `topic`, or undefined when nothing matches. */
  match(topic: string): AnyChannelDefinition | undefined {
    return this.table.match(topic);
  }

  /** The pattern that matches `topic` (for metrics and logs), or undefined. */
  patternOf(topic: string): string | undefined {
    return this.table.lookup(topic)?.pattern;
  }
}
