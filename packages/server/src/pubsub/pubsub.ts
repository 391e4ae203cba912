/**
 * PubSub: topic subscriptions on this node, and broadcasts that reach every node through an
 * adapter. Subscribers are objects with a `deliver` method, registered per topic in a Map of
 * Sets, so a broadcast touches only the subscribers of its topic. A broadcast is delivered
 * as one `BroadcastMessage` object shared by all local subscribers, so those that encode it
 * (channels writing frames) can memoise the encoding on it and encode once per format.
 *
 * The adapter carries broadcasts to other nodes (one message per broadcast per node, or, with
 * a topic-aware adapter, per node that has subscribers of the topic: PubSub tells it when a
 * topic's first local subscriber appears and its last leaves); the default `LocalAdapter` is
 * a single node. Semantics follow phoenix_pubsub: at-most-once,
 * `broadcastFrom` skips one local subscriber, `local*` variants stay on this node,
 * `directBroadcast` reaches only the named node. Each local delivery is published on
 * `cinder:pubsub:broadcast` (see `diagnostics.ts`) when someone listens.
 *
 * Stream topics (`enableHistory`) are the exception: their broadcasts are recorded in the
 * history store first and delivered with their stream position, in one order on every node
 * (docs/recovery.md).
 */
import { randomBytes } from "node:crypto";
import { diagnostics } from "../diagnostics.js";
import { MemoryHistory, SinceReads, TopicPatterns, type HistoryRead, type HistoryStore, type Publication, type StreamLimits, type StreamPosition } from "../history/index.js";

/** One broadcast as local subscribers receive it (one object per dispatch, shared by its subscribers). */
export interface BroadcastMessage {
  readonly topic: string;
  readonly event: string;
  /** Opaque to PubSub: for channels, a JSON value or a `Uint8Array`. */
  readonly payload: unknown;
  /** Its place in the topic's stream, for broadcasts on a stream topic (see `PubSub.enableHistory`). */
  readonly position?: StreamPosition;
}

/** Something that receives broadcasts on the topics it subscribed to. */
export interface Subscriber {
  /** Called once per broadcast on a subscribed topic (never for broadcasts it sent with `broadcastFrom`). */
  deliver(message: BroadcastMessage): void;
}

/** What an adapter delivers from another node. */
export interface RemoteBroadcast {
  topic: string;
  event: string;
  payload: unknown;
  /** Its stream position, when a shared history store delivers it. */
  position?: StreamPosition;
  /** The `tag` given to `HistoryStore.append`, which names a subscriber its origin node skips. */
  exclude?: string;
}

/**
 * Carries broadcasts between nodes. A cluster adapter (e.g. Redis) sends one message per
 * broadcast to the other nodes and hands each received one to `onRemote`, which delivers it
 * to this node's subscribers.
 */
export interface PubSubAdapter {
  /** This node's name, unique in the cluster. */
  readonly nodeName: string;
  /**
   * Optional: true when no other node can ever receive what this adapter sends (a single node).
   * Cluster work that only other nodes hear (presence gossip) then stays asleep while idle.
   */
  readonly alone?: boolean;
  /** Starts the adapter; `onRemote` delivers broadcasts from other nodes to local subscribers. */
  start(onRemote: (message: RemoteBroadcast) => void): Promise<void> | void;
  /** Sends a broadcast to every other node. */
  broadcast(message: RemoteBroadcast): void;
  /** Sends a broadcast to one node (which may be this one's name: then it is not called). */
  directBroadcast(nodeName: string, message: RemoteBroadcast): void;
  /** Stops the adapter. */
  close(): Promise<void> | void;
  /**
   * Optional, for topic-aware adapters that route a topic's broadcasts only to the nodes that
   * subscribe to it: called when this node's first local subscriber of `topic` appears. A
   * promise settles once broadcasts on `topic` from other nodes reach this node (for example
   * when Redis acknowledged the SUBSCRIBE); undefined when they already do. Adapters without
   * it receive every broadcast.
   */
  subscribeTopic?(topic: string): Promise<void> | undefined;
  /** Optional: called after the last local subscriber of `topic` left (the adapter may linger before it stops listening). */
  unsubscribeTopic?(topic: string): void;
}

/** The single-node adapter: there are no other nodes. */
export class LocalAdapter implements PubSubAdapter {
  readonly nodeName: string;
  readonly alone = true;

  constructor(nodeName = `node-${randomBytes(6).toString("hex")}`) {
    this.nodeName = nodeName;
  }

  start(): void {}
  broadcast(): void {}
  directBroadcast(): void {}
  close(): void {}
}

/** Options for a `PubSub`. */
export interface PubSubOptions {
  /** The adapter to other nodes; default a `LocalAdapter` (one node). */
  adapter?: PubSubAdapter;
  /** Called when a subscriber throws while handling a delivery (the others still get it). */
  onSubscriberError?: (error: unknown, topic: string) => void;
  /** Where broadcasts on stream topics are recorded; default a `MemoryHistory` (one node). */
  history?: HistoryStore;
  /** Called when a stream topic's broadcast cannot be recorded (it is then not delivered). */
  onHistoryError?: (error: unknown, topic: string) => void;
}

/** How a read of a topic's history starts: after a position, or the last `last` publications. */
export type HistoryQuery = { readonly since: StreamPosition } | { readonly last: number };

/** Topic subscriptions and broadcasts, local and through an adapter to other nodes. */
export class PubSub {
  /** The adapter to other nodes. */
  readonly adapter: PubSubAdapter;
  private readonly topics = new Map<string, Set<Subscriber>>();
  private readonly onSubscriberError: (error: unknown, topic: string) => void;
  private started: Promise<void> | undefined;
  /** Where stream topics' broadcasts are recorded. */
  readonly history: HistoryStore;
  private readonly streams = new TopicPatterns<StreamLimits>();
  /** A shared store's `since` reads, coalesced (read-batch.ts); a local store is read directly. */
  private readonly sinceReads: SinceReads | undefined;
  private readonly onHistoryError: (error: unknown, topic: string) => void;
  /** Subscribers to skip when a shared store delivers their `broadcastFrom` back, by tag. */
  private readonly exclusions = new Map<string, { subscriber: Subscriber; at: number }>();
  private exclusionSeq = 0;
  /** Topics whose adapter route is being set up, with the promise that settles when it is. */
  private readonly routing = new Map<string, Promise<void>>();

  constructor(options: PubSubOptions = {}) {
    this.adapter = options.adapter ?? new LocalAdapter();
    this.onSubscriberError = options.onSubscriberError ?? ((error) => { queueMicrotask(() => { throw error; }); });
    this.history = options.history ?? new MemoryHistory();
    this.sinceReads = this.history.deliversItself ? new SinceReads(this.history) : undefined;
    this.onHistoryError = options.onHistoryError ?? ((error, topic) => {
      process.emitWarning(`cinder: a broadcast on stream topic "${topic}" could not be recorded and was dropped: ${String(error)}`);
    });
  }

  /**
   * Makes every topic matching `pattern` (`"room:*"`, or an exact topic) a stream topic: its
   * broadcasts are recorded in the history store, each at the next offset, and delivered with
   * their position. Local broadcasts (`localBroadcast*`) are not recorded.
   */
  enableHistory(pattern: string, limits: StreamLimits): void {
    if (!(Number.isSafeInteger(limits.size) && limits.size > 0)) throw new RangeError(`history size must be a positive integer, got ${limits.size}`);
    if (!(Number.isFinite(limits.ttlMs) && limits.ttlMs > 0)) throw new RangeError(`history ttlMs must be a positive number, got ${limits.ttlMs}`);
    this.streams.add(pattern, limits);
  }

  /** The history limits of `topic`, or undefined when it is not a stream topic. */
  streamLimits(topic: string): StreamLimits | undefined {
    return this.streams.empty ? undefined : this.streams.match(topic);
  }

  /** Reads a stream topic's history: what came after a position, or the last N; undefined for other topics. */
  async readHistory(topic: string, query: HistoryQuery): Promise<HistoryRead | undefined> {
    const limits = this.streamLimits(topic);
    if (limits === undefined) return undefined;
    if (!("since" in query)) return this.history.last(topic, query.last, limits);
    return this.sinceReads !== undefined ? this.sinceReads.since(topic, query.since, limits) : this.history.since(topic, query.since, limits);
  }

  /** This node's name. */
  get nodeName(): string {
    return this.adapter.nodeName;
  }

  /** True when there are no other nodes (the adapter says so, as a `LocalAdapter` does). */
  get alone(): boolean {
    return this.adapter.alone === true;
  }

  /** Starts the adapter (idempotent). */
  start(): Promise<void> {
    this.started ??= Promise.resolve(this.adapter.start((message) => {
      let from: Subscriber | undefined;
      if (message.exclude !== undefined) {
        from = this.exclusions.get(message.exclude)?.subscriber;
        this.exclusions.delete(message.exclude);
      }
      this.dispatch(message.topic, message.event, message.payload, from, message.position);
    }));
    return this.started;
  }

  /**
   * Subscribes `subscriber` to `topic`. Subscribing twice is a no-op. Local broadcasts reach it
   * at once; with a topic-aware adapter, broadcasts from other nodes reach it once the returned
   * promise settled (undefined: they already do). A join waits for it before replying.
   */
  subscribe(topic: string, subscriber: Subscriber): Promise<void> | undefined {
    let set = this.topics.get(topic);
    if (set === undefined) {
      set = new Set();
      this.topics.set(topic, set);
      const route = this.adapter.subscribeTopic?.(topic);
      if (route !== undefined) {
        const done = (): void => { if (this.routing.get(topic) === settled) this.routing.delete(topic); };
        const settled: Promise<void> = route.then(done, done);
        this.routing.set(topic, settled);
      }
    }
    set.add(subscriber);
    return this.routing.get(topic);
  }

  /** Removes `subscriber` from `topic`. */
  unsubscribe(topic: string, subscriber: Subscriber): void {
    const set = this.topics.get(topic);
    if (set === undefined) return;
    set.delete(subscriber);
    if (set.size === 0) {
      this.topics.delete(topic);
      this.routing.delete(topic);
      this.adapter.unsubscribeTopic?.(topic);
    }
  }

  /** The number of local subscribers of `topic`. */
  subscriberCount(topic: string): number {
    return this.topics.get(topic)?.size ?? 0;
  }

  /** Broadcasts to every subscriber of `topic` on every node. */
  broadcast(topic: string, event: string, payload: unknown): void {
    const limits = this.streamLimits(topic);
    if (limits !== undefined) return this.record(limits, undefined, topic, event, payload);
    this.adapter.broadcast({ topic, event, payload });
    this.dispatch(topic, event, payload, undefined);
  }

  /** Broadcasts to every subscriber of `topic` on every node except `from`. */
  broadcastFrom(from: Subscriber, topic: string, event: string, payload: unknown): void {
    const limits = this.streamLimits(topic);
    if (limits !== undefined) return this.record(limits, from, topic, event, payload);
    this.adapter.broadcast({ topic, event, payload });
    this.dispatch(topic, event, payload, from);
  }

  /** Broadcasts to the subscribers of `topic` on this node only. */
  localBroadcast(topic: string, event: string, payload: unknown): void {
    this.dispatch(topic, event, payload, undefined);
  }

  /** Broadcasts to the subscribers of `topic` on this node only, except `from`. */
  localBroadcastFrom(from: Subscriber, topic: string, event: string, payload: unknown): void {
    this.dispatch(topic, event, payload, from);
  }

  /** Broadcasts to the subscribers of `topic` on the node named `nodeName` only. */
  directBroadcast(nodeName: string, topic: string, event: string, payload: unknown): void {
    if (nodeName === this.adapter.nodeName) this.dispatch(topic, event, payload, undefined);
    else this.adapter.directBroadcast(nodeName, { topic, event, payload });
  }

  /** Stops the adapter and the history store. Local subscriptions stay. */
  async close(): Promise<void> {
    await this.adapter.close();
    await this.history.close();
  }

  /**
   * A broadcast on a stream topic: recorded first. A local store gives its position at once and
   * it is delivered here (and, without position, to other nodes); a shared store delivers it
   * to every node itself, this one included, in stream order.
   */
  private record(limits: StreamLimits, from: Subscriber | undefined, topic: string, event: string, payload: unknown): void {
    if (!this.history.deliversItself) {
      let publication: Publication | undefined;
      try {
        publication = this.history.append(topic, event, payload, limits) as Publication | undefined;
      } catch (error) {
        this.onHistoryError(error, topic);
        return;
      }
      this.adapter.broadcast({ topic, event, payload });
      this.dispatch(topic, event, payload, from, publication?.position);
      return;
    }
    let tag: string | undefined;
    if (from !== undefined) {
      tag = `${this.nodeName}/${++this.exclusionSeq}`;
      this.forgetOldExclusions();
      this.exclusions.set(tag, { subscriber: from, at: Date.now() });
    }
    Promise.resolve()
      .then(() => this.history.append(topic, event, payload, limits, tag))
      .catch((error: unknown) => {
        if (tag !== undefined) this.exclusions.delete(tag);
        this.onHistoryError(error, topic);
      });
  }

  /** Exclusions whose publication never came back (a lost publish) are dropped after a minute. */
  private forgetOldExclusions(): void {
    const cutoff = Date.now() - 60_000;
    for (const [tag, entry] of this.exclusions) {
      if (entry.at >= cutoff) break;
      this.exclusions.delete(tag);
    }
  }

  private dispatch(topic: string, event: string, payload: unknown, from: Subscriber | undefined, position?: StreamPosition): void {
    const set = this.topics.get(topic);
    if (set === undefined) return;
    const message: BroadcastMessage = position === undefined
      ? { topic, event, payload }
      : { topic, event, payload, position };
    let delivered = 0;
    for (const subscriber of set) {
      if (subscriber === from) continue;
      delivered++;
      try {
        subscriber.deliver(message);
      } catch (error) {
        this.onSubscriberError(error, topic);
      }
    }
    if (diagnostics.broadcast.hasSubscribers) diagnostics.broadcast.publish({ pubsub: this, topic, event, subscribers: delivered });
  }
}
