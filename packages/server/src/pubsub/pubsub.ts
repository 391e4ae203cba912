/**
 * PubSub: topic subscriptions on this node, and broadcasts that reach every node through an
 * adapter. Subscribers are objects with a `deliver` method, registered per topic in a Map of
 * Sets, so a broadcast touches only the subscribers of its topic. The payload is opaque here:
 * PubSub never encodes it. One dispatch hands the same `BroadcastMessage` object to all local
 * subscribers, so a subscriber layer may recognise one broadcast by identity (the channel
 * layer's fastlane encodes it once per format that way).
 *
 * The adapter carries broadcasts to other nodes (one message per broadcast per node); the
 * default `LocalAdapter` is a single node. Semantics follow phoenix_pubsub: at-most-once,
 * `broadcastFrom` skips one local subscriber, `local*` variants stay on this node,
 * `directBroadcast` reaches only the named node. Each local delivery is published on
 * `cinder:pubsub:broadcast` (see `diagnostics.ts`) when someone listens.
 */
import { randomBytes } from "node:crypto";
import { diagnostics } from "../diagnostics.js";

/** One broadcast as local subscribers receive it (one object per dispatch, shared by its subscribers). */
export interface BroadcastMessage {
  readonly topic: string;
  readonly event: string;
  /** Opaque to PubSub: for channels, a JSON value or a `Uint8Array`. */
  readonly payload: unknown;
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
}

/**
 * Carries broadcasts between nodes. A cluster adapter (e.g. Redis) sends one message per
 * broadcast to the other nodes and hands each received one to `onRemote`, which delivers it
 * to this node's subscribers.
 */
export interface PubSubAdapter {
  /** This node's name, unique in the cluster. */
  readonly nodeName: string;
  /** Starts the adapter; `onRemote` delivers broadcasts from other nodes to local subscribers. */
  start(onRemote: (message: RemoteBroadcast) => void): Promise<void> | void;
  /** Sends a broadcast to every other node. */
  broadcast(message: RemoteBroadcast): void;
  /** Sends a broadcast to one node (which may be this one's name: then it is not called). */
  directBroadcast(nodeName: string, message: RemoteBroadcast): void;
  /** Stops the adapter. */
  close(): Promise<void> | void;
}

/** The single-node adapter: there are no other nodes. */
export class LocalAdapter implements PubSubAdapter {
  readonly nodeName: string;

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
}

/** Topic subscriptions and broadcasts, local and through an adapter to other nodes. */
export class PubSub {
  /** The adapter to other nodes. */
  readonly adapter: PubSubAdapter;
  private readonly topics = new Map<string, Set<Subscriber>>();
  private readonly onSubscriberError: (error: unknown, topic: string) => void;
  private started: Promise<void> | undefined;

  constructor(options: PubSubOptions = {}) {
    this.adapter = options.adapter ?? new LocalAdapter();
    this.onSubscriberError = options.onSubscriberError ?? ((error) => { queueMicrotask(() => { throw error; }); });
  }

  /** This node's name. */
  get nodeName(): string {
    return this.adapter.nodeName;
  }

  /** Starts the adapter (idempotent). */
  start(): Promise<void> {
    this.started ??= Promise.resolve(this.adapter.start((message) => {
      this.dispatch(message.topic, message.event, message.payload, undefined);
    }));
    return this.started;
  }

  /** Subscribes `subscriber` to `topic`. Subscribing twice is a no-op. */
  subscribe(topic: string, subscriber: Subscriber): void {
    let set = this.topics.get(topic);
    if (set === undefined) {
      set = new Set();
      this.topics.set(topic, set);
    }
    set.add(subscriber);
  }

  /** Removes `subscriber` from `topic`. */
  unsubscribe(topic: string, subscriber: Subscriber): void {
    const set = this.topics.get(topic);
    if (set === undefined) return;
    set.delete(subscriber);
    if (set.size === 0) this.topics.delete(topic);
  }

  /** The number of local subscribers of `topic`. */
  subscriberCount(topic: string): number {
    return this.topics.get(topic)?.size ?? 0;
  }

  /** Broadcasts to every subscriber of `topic` on every node. */
  broadcast(topic: string, event: string, payload: unknown): void {
    this.adapter.broadcast({ topic, event, payload });
    this.dispatch(topic, event, payload, undefined);
  }

  /** Broadcasts to every subscriber of `topic` on every node except `from`. */
  broadcastFrom(from: Subscriber, topic: string, event: string, payload: unknown): void {
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

  /** Stops the adapter. Local subscriptions stay. */
  async close(): Promise<void> {
    await this.adapter.close();
  }

  private dispatch(topic: string, event: string, payload: unknown, from: Subscriber | undefined): void {
    const set = this.topics.get(topic);
    if (set === undefined) return;
    const message: BroadcastMessage = { topic, event, payload };
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
