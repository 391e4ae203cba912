/**
 * `RedisAdapter`: a Cinder PubSub adapter on Redis pub/sub, so broadcasts and presence gossip
 * cross nodes. A broadcast is one PUBLISH, whatever the number of subscribers, and each
 * receiving node fans it out locally; nodes skip their own echo by the origin name in the
 * envelope. Every node also listens on its own channel (`<ns>:node:{<name>}`) for direct
 * messages (long-poll forwarding, presence transfers).
 *
 * Two routings (`routing`):
 * - `"topic"` (default): a topic's broadcasts go on the topic's channel `<ns>:t:{<topic>}`, which
 *   a node subscribes to while it has local subscribers of the topic (and `lingerMs` after the
 *   last left), so a broadcast reaches only the nodes that have subscribers for it. A join
 *   replies once Redis acknowledged the subscription.
 * - `"all"`: every broadcast on one channel `<ns>:all` that every node receives (no
 *   subscription per topic; traffic grows as nodes × broadcasts).
 *
 * Two engines: a single Redis (`url`), or a Redis Cluster (`cluster`: seed node URLs), where
 * topic and node channels are shard channels (SPUBLISH / SSUBSCRIBE, Redis 7), each served by
 * the master owning its slot; the topic's hash tag puts its channel in the slot of its
 * history keys, so a stream topic's script publishes on the shard that stores it.
 *
 * Redis pub/sub is at-most-once, and so is this adapter: while Redis is unreachable, publishes
 * are dropped (not queued in memory) and logged, the node keeps serving its local sockets, the
 * connections retry with backoff and resubscribe when Redis returns; the presence tracker then
 * repairs what was missed (clock sampling and transfers).
 */
import { hostname } from "node:os";
import { randomBytes } from "node:crypto";
import type { RedisOptions } from "ioredis";
import { createLogger, type Logger, type PubSubAdapter, type RemoteBroadcast } from "@cinder/server";
import { decodeEnvelope, encodeEnvelope } from "./codec.js";
import { clusterEngine, singleEngine, type ChannelKind, type Engine } from "./engine.js";
import { RedisHistory } from "./history.js";
import { TopicRoutes, type RouteStats } from "./routes.js";

/** How broadcasts find the nodes: per topic (only nodes with subscribers) or all nodes. */
export type RedisRouting = "topic" | "all";

/** Options of a `RedisAdapter`. */
export interface RedisAdapterOptions {
  /** Redis URL (a single Redis). Default `redis://127.0.0.1:6379`. Ignored when `cluster` is given. */
  url?: string;
  /**
   * A Redis Cluster (Redis 7) instead of a single Redis: URLs of some of its nodes (the rest
   * are discovered). Topic and node channels become shard channels (SPUBLISH / SSUBSCRIBE).
   */
  cluster?: readonly string[];
  /** Per-topic channels (`"topic"`, default) or one channel every node receives (`"all"`). */
  routing?: RedisRouting;
  /** With `"topic"` routing: how long a node keeps listening to a topic after its last local subscriber left. Default 1000 ms. */
  lingerMs?: number;
  /** With `"topic"` routing: how long a join waits for Redis to acknowledge a topic's subscription. Default 2000 ms. */
  subscribeTimeoutMs?: number;
  /** This node's name, unique in the cluster. Default `<hostname>-<pid>-<random>`. */
  nodeName?: string;
  /** Prefix of the Redis channels and keys, so several clusters can share one Redis. Default "cinder". */
  namespace?: string;
  /** Logger; default the built-in one. */
  logger?: Logger;
  /** Extra ioredis options (every connection). */
  redis?: RedisOptions;
}

/** Counters of a `RedisAdapter`: what it sent and received, and its topic subscriptions. */
export interface RedisAdapterStats extends RouteStats {
  /** Messages published (broadcasts and direct messages). */
  published: number;
  /** Messages received from Redis (own echoes included). */
  received: number;
  /** Publishes dropped while Redis was unreachable. */
  dropped: number;
}

/** A PubSub adapter on Redis pub/sub (a single Redis or a Redis Cluster). */
export class RedisAdapter implements PubSubAdapter {
  /** This node's name. */
  readonly nodeName: string;
  /** The routing in use. */
  readonly routing: RedisRouting;
  private readonly namespace: string;
  private readonly logger: Logger;
  private readonly engine: Engine;
  /** Topic and node channels: shard channels on a cluster. */
  private readonly kind: ChannelKind;
  private readonly routes: TopicRoutes | undefined;
  private published = 0;
  private received = 0;
  private dropped = 0;
  private lastDropLog = 0;

  constructor(options: RedisAdapterOptions = {}) {
    this.nodeName = options.nodeName ?? `${hostname()}-${process.pid}-${randomBytes(3).toString("hex")}`;
    this.namespace = options.namespace ?? "cinder";
    this.logger = options.logger ?? createLogger({ name: "redis" });
    this.routing = options.routing ?? "topic";
    if (this.routing !== "topic" && this.routing !== "all") throw new RangeError(`routing must be "topic" or "all", got ${String(this.routing)}`);
    const lingerMs = options.lingerMs ?? 1000;
    const ackTimeoutMs = options.subscribeTimeoutMs ?? 2000;
    if (!(Number.isFinite(lingerMs) && lingerMs >= 0)) throw new RangeError(`lingerMs must be a number ≥ 0, got ${lingerMs}`);
    if (!(Number.isFinite(ackTimeoutMs) && ackTimeoutMs > 0)) throw new RangeError(`subscribeTimeoutMs must be a positive number, got ${ackTimeoutMs}`);
    if (options.cluster !== undefined && options.cluster.length === 0) throw new RangeError("cluster must name at least one node");
    const common: RedisOptions = {
      retryStrategy: (times) => Math.min(100 * 2 ** Math.min(times, 5), 2_000),
      lazyConnect: true,
      ...options.redis,
    };
    this.engine = options.cluster !== undefined
      ? clusterEngine(options.cluster, this.nodeName, common)
      : singleEngine(options.url ?? "redis://127.0.0.1:6379", this.nodeName, common);
    this.kind = this.engine.clustered ? "sharded" : "classic";
    const down = { publisher: false, subscriber: false };
    this.engine.onStatus((role, status, error) => {
      if (status === "error") {
        if (!down[role]) this.logger.warn({ role, err: error?.message }, "redis connection error; retrying");
        down[role] = true;
        return;
      }
      if (down[role]) {
        this.logger.info({ role }, "redis connection restored");
        if (role === "subscriber") this.routes?.resync();
      }
      down[role] = false;
    });
    this.routes = this.routing === "topic"
      ? new TopicRoutes({
        subscribe: (channels) => this.engine.subscribe(this.kind, channels),
        unsubscribe: (channels) => this.engine.unsubscribe(this.kind, channels),
        ready: () => this.engine.subscriberReady(),
      }, this.logger, lingerMs, ackTimeoutMs)
      : undefined;
  }

  /**
   * A history store in this Redis for stream topics, shared by the cluster:
   * `new PubSub({ adapter, history: adapter.history() })`. Its script publishes each
   * publication on the channel this adapter routes the topic's broadcasts on.
   */
  history(): RedisHistory {
    return new RedisHistory({
      redis: this.engine.commands,
      namespace: this.namespace,
      channelOf: (topic) => this.channelOf(topic),
      publishCommand: this.routes === undefined ? "PUBLISH" : this.engine.publishCommand,
    });
  }

  /** The Redis channel a topic's broadcasts travel on. */
  channelOf(topic: string): string {
    return this.routes === undefined ? `${this.namespace}:all` : `${this.namespace}:t:{${topic}}`;
  }

  /** The Redis channel of a node's direct messages. */
  nodeChannel(node: string): string {
    return `${this.namespace}:node:{${node}}`;
  }

  /** What this adapter sent and received so far. */
  stats(): RedisAdapterStats {
    const routes = this.routes?.stats() ?? { channels: 1, subscribeCommands: 0, unsubscribeCommands: 0, channelsSubscribed: 0, channelsUnsubscribed: 0 };
    return { ...routes, published: this.published, received: this.received, dropped: this.dropped };
  }

  /** Connects and subscribes; broadcasts from other nodes go to `onRemote`. */
  async start(onRemote: (message: RemoteBroadcast) => void): Promise<void> {
    this.engine.onMessage((_channel: string, text: string) => {
      this.received++;
      let envelope;
      try {
        envelope = decodeEnvelope(text);
      } catch (error) {
        this.logger.warn({ err: (error as Error).message }, "redis: malformed message ignored");
        return;
      }
      // Stream publications (origin "") come back to every node, this one included: Redis orders them.
      if (envelope.origin === this.nodeName) return;
      onRemote(envelope.message);
    });
    await this.engine.connect().catch((error: Error) => this.logger.warn({ err: error.message }, "redis not connected yet; retrying"));
    const own = this.engine.subscribe(this.kind, [this.nodeChannel(this.nodeName)]);
    const all = this.routes === undefined ? this.engine.subscribe("classic", [`${this.namespace}:all`]) : undefined;
    this.routes?.open();
    await Promise.all([own, all]);
  }

  /** Starts listening to `topic`'s channel (topic routing); settles when Redis acknowledged it. */
  subscribeTopic(topic: string): Promise<void> | undefined {
    return this.routes?.add(this.channelOf(topic));
  }

  /** Stops listening to `topic`'s channel after the linger (topic routing). */
  unsubscribeTopic(topic: string): void {
    this.routes?.remove(this.channelOf(topic));
  }

  /** Publishes a broadcast to every other node that has subscribers of its topic. */
  broadcast(message: RemoteBroadcast): void {
    if (this.routes === undefined) this.publish("classic", `${this.namespace}:all`, message);
    else this.publish(this.kind, this.channelOf(message.topic), message);
  }

  /** Publishes a broadcast to one node. */
  directBroadcast(nodeName: string, message: RemoteBroadcast): void {
    this.publish(this.kind, this.nodeChannel(nodeName), message);
  }

  /** Closes the connections. */
  async close(): Promise<void> {
    this.routes?.close();
    await this.engine.close();
  }

  private publish(kind: ChannelKind, channel: string, message: RemoteBroadcast): void {
    let text: string;
    try {
      text = encodeEnvelope(this.nodeName, message);
    } catch (error) {
      this.logger.error({ err: error, topic: message.topic }, "redis: broadcast cannot be encoded; dropped");
      return;
    }
    if (!this.engine.publisherReady()) {
      this.drop();
      return;
    }
    this.published++;
    this.engine.publish(kind, channel, text).catch(() => this.drop());
  }

  private drop(): void {
    this.dropped++;
    const now = Date.now();
    if (now - this.lastDropLog > 5_000) {
      this.lastDropLog = now;
      this.logger.warn({ dropped: this.dropped }, "redis unavailable: broadcasts to other nodes dropped");
    }
  }
}
