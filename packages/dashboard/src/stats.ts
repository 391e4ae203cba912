/**
 * One node's live numbers, counted from Cinder's diagnostics channels for the endpoints it
 * observes: open connections by transport, joined channels by topic pattern and by topic,
 * messages in and out (totals; the dashboard turns them into per-second rates), slow-consumer
 * cut-offs, rate-limit refusals, errors, and broadcasts per topic. Subscribers only increment.
 */
import { subscribeDiagnostics, type Presence, type TransportName } from "@cinder/server";

/** A topic (or pattern) with a count, for the "biggest" lists. */
export interface Ranked {
  /** The topic or pattern. */
  readonly name: string;
  /** Its count. */
  readonly count: number;
}

/** One node's numbers at one moment: what the dashboard broadcasts every interval. */
export interface NodeSnapshot {
  /** The node's name (`PubSub.nodeName`). */
  readonly node: string;
  /** When it was taken (ms since the epoch). */
  readonly at: number;
  /** Open connections by transport. */
  readonly connections: Record<TransportName, number>;
  /** Joined channels by topic pattern. */
  readonly channels: Record<string, number>;
  /** Frames received since the node started counting. */
  readonly messagesIn: number;
  /** Frames sent since the node started counting. */
  readonly messagesOut: number;
  /** Frames received per second over the last interval. */
  readonly inPerSecond: number;
  /** Frames sent per second over the last interval. */
  readonly outPerSecond: number;
  /** Slow consumers cut off, total. */
  readonly slowConsumers: number;
  /** Rate-limit refusals, total, by what was refused. */
  readonly rateLimited: Record<string, number>;
  /** Errors, total, by kind. */
  readonly errors: Record<string, number>;
  /** The topics with the most joined channels on this node (up to 10). */
  readonly biggestTopics: readonly Ranked[];
  /** The topics with the most presence connections (up to 10; empty without presence). */
  readonly biggestPresences: readonly Ranked[];
}

/** Counters for the endpoints whose ids are in `endpoints`. */
export class Stats {
  readonly #endpoints: ReadonlySet<string>;
  readonly #presence: Pick<Presence, "topics" | "countConnections"> | undefined;
  readonly #connections: Record<TransportName, number> = { websocket: 0, longpoll: 0 };
  readonly #channels = new Map<string, number>();
  readonly #topics = new Map<string, number>();
  readonly #rateLimited: Record<string, number> = {};
  readonly #errors: Record<string, number> = {};
  #in = 0;
  #out = 0;
  #slow = 0;
  #last: { at: number; in: number; out: number } = { at: Date.now(), in: 0, out: 0 };
  readonly #unsubscribers: (() => void)[];

  /** Starts counting the events of the endpoints whose ids `endpoints` holds (it may grow later). */
  constructor(endpoints: ReadonlySet<string>, presence?: Pick<Presence, "topics" | "countConnections">) {
    this.#endpoints = endpoints;
    this.#presence = presence;
    const mine = (endpoint: string): boolean => this.#endpoints.has(endpoint);
    const bump = (map: Map<string, number>, key: string, by: number): void => {
      const n = (map.get(key) ?? 0) + by;
      if (n > 0) map.set(key, n);
      else map.delete(key);
    };
    this.#unsubscribers = [
      subscribeDiagnostics("cinder:socket:connect", ({ endpoint, transport, accepted }) => {
        if (accepted && mine(endpoint)) this.#connections[transport]++;
      }),
      subscribeDiagnostics("cinder:socket:close", ({ endpoint, transport }) => {
        if (mine(endpoint)) this.#connections[transport] = Math.max(0, this.#connections[transport] - 1);
      }),
      subscribeDiagnostics("cinder:socket:message_in", ({ endpoint }) => { if (mine(endpoint)) this.#in++; }),
      subscribeDiagnostics("cinder:socket:message_out", ({ endpoint }) => { if (mine(endpoint)) this.#out++; }),
      subscribeDiagnostics("cinder:socket:slow_consumer", ({ endpoint }) => { if (mine(endpoint)) this.#slow++; }),
      subscribeDiagnostics("cinder:socket:rate_limited", ({ endpoint, what }) => {
        if (mine(endpoint)) this.#rateLimited[what] = (this.#rateLimited[what] ?? 0) + 1;
      }),
      subscribeDiagnostics("cinder:error", ({ endpoint, kind }) => {
        if (mine(endpoint)) this.#errors[kind] = (this.#errors[kind] ?? 0) + 1;
      }),
      subscribeDiagnostics("cinder:channel:join", ({ endpoint, topic, pattern, status }) => {
        if (status !== "ok" || !mine(endpoint)) return;
        bump(this.#channels, pattern, 1);
        bump(this.#topics, topic, 1);
      }),
      subscribeDiagnostics("cinder:channel:leave", ({ endpoint, topic, pattern }) => {
        if (!mine(endpoint)) return;
        bump(this.#channels, pattern, -1);
        bump(this.#topics, topic, -1);
      }),
    ];
  }

  /** The numbers now, with rates since the previous snapshot. */
  snapshot(node: string, now = Date.now()): NodeSnapshot {
    const seconds = Math.max(0.001, (now - this.#last.at) / 1000);
    const inPerSecond = Math.round((this.#in - this.#last.in) / seconds);
    const outPerSecond = Math.round((this.#out - this.#last.out) / seconds);
    this.#last = { at: now, in: this.#in, out: this.#out };
    const presence = this.#presence;
    const presences = presence === undefined ? [] : presence.topics().map((name) => ({ name, count: presence.countConnections(name) }));
    return {
      node, at: now,
      connections: { ...this.#connections },
      channels: Object.fromEntries(this.#channels),
      messagesIn: this.#in, messagesOut: this.#out, inPerSecond, outPerSecond,
      slowConsumers: this.#slow,
      rateLimited: { ...this.#rateLimited },
      errors: { ...this.#errors },
      biggestTopics: top([...this.#topics].map(([name, count]) => ({ name, count }))),
      biggestPresences: top(presences),
    };
  }

  /** Stops counting. */
  close(): void {
    for (const unsubscribe of this.#unsubscribers.splice(0)) unsubscribe();
  }
}

function top(list: Ranked[]): Ranked[] {
  return list.sort((a, b) => b.count - a.count || a.name.localeCompare(b.name)).slice(0, 10);
}
