/**
 * `RedisAdapter`: a Cinder PubSub adapter on Redis pub/sub, so broadcasts and presence gossip
 * cross nodes. Every node subscribes to one shared channel (`<namespace>:all`) for broadcasts
 * and to its own (`<namespace>:node:<name>`) for direct messages; a broadcast is one PUBLISH,
 * whatever the number of subscribers, and each receiving node fans it out locally. Nodes skip
 * their own echo by the origin name in the envelope.
 *
 * Redis pub/sub is at-most-once, and so is this adapter: while Redis is unreachable, publishes
 * are dropped (not queued in memory) and logged, the node keeps serving its local sockets, the
 * connections retry with backoff and resubscribe when Redis returns; the presence tracker then
 * repairs what was missed (clock sampling and transfers).
 */
import { hostname } from "node:os";
import { randomBytes } from "node:crypto";
import { Redis, type RedisOptions } from "ioredis";
import { createLogger, type Logger, type PubSubAdapter, type RemoteBroadcast } from "@cinder/server";
import { decodeEnvelope, encodeEnvelope } from "./codec.js";
import { RedisHistory } from "./history.js";

/** Options of a `RedisAdapter`. */
export interface RedisAdapterOptions {
  /** Redis URL. Default `redis://127.0.0.1:6379`. */
  url?: string;
  /** This node's name, unique in the cluster. Default `<hostname>-<pid>-<random>`. */
  nodeName?: string;
  /** Prefix of the Redis channels, so several clusters can share one Redis. Default "cinder". */
  namespace?: string;
  /** Logger; default the built-in one. */
  logger?: Logger;
  /** Extra ioredis options (both connections). */
  redis?: RedisOptions;
}

/** A PubSub adapter on Redis pub/sub. */
export class RedisAdapter implements PubSubAdapter {
  /** This node's name. */
  readonly nodeName: string;
  private readonly namespace: string;
  private readonly logger: Logger;
  private readonly publisher: Redis;
  private readonly subscriber: Redis;
  private dropped = 0;
  private lastDropLog = 0;

  constructor(options: RedisAdapterOptions = {}) {
    this.nodeName = options.nodeName ?? `${hostname()}-${process.pid}-${randomBytes(3).toString("hex")}`;
    this.namespace = options.namespace ?? "cinder";
    this.logger = options.logger ?? createLogger({ name: "redis" });
    const url = options.url ?? "redis://127.0.0.1:6379";
    const common: RedisOptions = {
      retryStrategy: (times) => Math.min(100 * 2 ** Math.min(times, 5), 2_000),
      lazyConnect: true,
      ...options.redis,
    };
    // The publisher fails fast while disconnected: pub/sub is at-most-once, and queueing would grow memory.
    this.publisher = new Redis(url, { ...common, enableOfflineQueue: false, maxRetriesPerRequest: 0, connectionName: `${this.nodeName}:pub` });
    this.subscriber = new Redis(url, { ...common, connectionName: `${this.nodeName}:sub` });
    for (const [role, client] of [["publisher", this.publisher], ["subscriber", this.subscriber]] as const) {
      let down = false;
      client.on("error", (error: Error) => {
        if (!down) this.logger.warn({ role, err: error.message }, "redis connection error; retrying");
        down = true;
      });
      client.on("ready", () => {
        if (down) this.logger.info({ role }, "redis connection restored");
        down = false;
      });
    }
  }

  /**
   * A history store in this Redis for stream topics, shared by the cluster:
   * `new PubSub({ adapter, history: adapter.history() })`.
   */
  history(): RedisHistory {
    return new RedisHistory({ redis: this.publisher, namespace: this.namespace, broadcastChannel: this.broadcastChannel });
  }

  private get broadcastChannel(): string {
    return `${this.namespace}:all`;
  }

  private nodeChannel(node: string): string {
    return `${this.namespace}:node:${node}`;
  }

  /** Connects and subscribes; broadcasts from other nodes go to `onRemote`. */
  async start(onRemote: (message: RemoteBroadcast) => void): Promise<void> {
    this.subscriber.on("message", (_channel: string, text: string) => {
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
    await Promise.all([
      this.publisher.connect().catch((error: Error) => this.logger.warn({ err: error.message }, "redis publisher not connected yet; retrying")),
      this.subscriber.connect().catch((error: Error) => this.logger.warn({ err: error.message }, "redis subscriber not connected yet; retrying")),
    ]);
    await this.subscriber.subscribe(this.broadcastChannel, this.nodeChannel(this.nodeName));
  }

  /** Publishes a broadcast to every other node. */
  broadcast(message: RemoteBroadcast): void {
    this.publish(this.broadcastChannel, message);
  }

  /** Publishes a broadcast to one node. */
  directBroadcast(nodeName: string, message: RemoteBroadcast): void {
    this.publish(this.nodeChannel(nodeName), message);
  }

  /** Closes both connections. */
  async close(): Promise<void> {
    await Promise.allSettled([this.publisher.quit(), this.subscriber.quit()]);
    this.publisher.disconnect();
    this.subscriber.disconnect();
  }

  private publish(channel: string, message: RemoteBroadcast): void {
    let text: string;
    try {
      text = encodeEnvelope(this.nodeName, message);
    } catch (error) {
      this.logger.error({ err: error, topic: message.topic }, "redis: broadcast cannot be encoded; dropped");
      return;
    }
    if (this.publisher.status !== "ready") {
      this.drop();
      return;
    }
    this.publisher.publish(channel, text).catch(() => this.drop());
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
