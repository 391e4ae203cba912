/**
 * The two Redis engines the adapter runs on, behind one small interface: a single Redis
 * (PUBLISH / SUBSCRIBE) or a Redis Cluster (sharded pub/sub: SPUBLISH / SSUBSCRIBE, Redis 7,
 * each shard channel served by the master that owns its hash slot). Each engine has a
 * publisher connection (fails fast while disconnected: pub/sub is at-most-once, and queueing
 * would grow memory) and a subscriber connection (resubscribes by itself after a reconnect).
 */
import { Cluster, Redis, type ClusterNode, type RedisOptions } from "ioredis";
import { hashSlot } from "./slot.js";

/** How a channel is published and subscribed: classic pub/sub or sharded pub/sub. */
export type ChannelKind = "classic" | "sharded";

/** What the adapter needs from Redis. */
export interface Engine {
  /** The connection that runs commands and publishes (and `RedisHistory`'s scripts). */
  readonly commands: Redis | Cluster;
  /** The command that publishes a topic's or a node's channel ("PUBLISH" or "SPUBLISH"). */
  readonly publishCommand: "PUBLISH" | "SPUBLISH";
  /** True on a Redis Cluster. */
  readonly clustered: boolean;
  connect(): Promise<void>;
  publish(kind: ChannelKind, channel: string, text: string): Promise<unknown>;
  subscribe(kind: ChannelKind, channels: readonly string[]): Promise<unknown>;
  unsubscribe(kind: ChannelKind, channels: readonly string[]): Promise<unknown>;
  /** Every message received, from either kind of channel. */
  onMessage(handler: (channel: string, text: string) => void): void;
  publisherReady(): boolean;
  subscriberReady(): boolean;
  /** Connection errors and recoveries, for logging. */
  onStatus(handler: (role: "publisher" | "subscriber", status: "error" | "ready", error?: Error) => void): void;
  close(): Promise<void>;
}

/** Groups channels by hash slot: one SSUBSCRIBE may only name channels of one slot. */
function bySlot(channels: readonly string[]): string[][] {
  const groups = new Map<number, string[]>();
  for (const channel of channels) {
    const slot = hashSlot(channel);
    const group = groups.get(slot);
    if (group === undefined) groups.set(slot, [channel]);
    else group.push(channel);
  }
  return [...groups.values()];
}

/** A single Redis at `url`. */
export function singleEngine(url: string, name: string, options: RedisOptions): Engine {
  const publisher = new Redis(url, { ...options, enableOfflineQueue: false, maxRetriesPerRequest: 0, connectionName: `${name}:pub` });
  const subscriber = new Redis(url, { ...options, connectionName: `${name}:sub` });
  return {
    commands: publisher,
    publishCommand: "PUBLISH",
    clustered: false,
    async connect() {
      await Promise.all([publisher.connect(), subscriber.connect()]);
    },
    publish: (_kind, channel, text) => publisher.publish(channel, text),
    subscribe: (_kind, channels) => subscriber.subscribe(...channels),
    unsubscribe: (_kind, channels) => subscriber.unsubscribe(...channels),
    onMessage(handler) {
      subscriber.on("message", handler);
    },
    publisherReady: () => publisher.status === "ready",
    subscriberReady: () => subscriber.status === "ready",
    onStatus(handler) {
      for (const [role, client] of [["publisher", publisher], ["subscriber", subscriber]] as const) {
        client.on("error", (error: Error) => handler(role, "error", error));
        client.on("ready", () => handler(role, "ready"));
      }
    },
    async close() {
      await Promise.allSettled([publisher.quit(), subscriber.quit()]);
      publisher.disconnect();
      subscriber.disconnect();
    },
  };
}

/** A Redis Cluster reached through `nodes` (any of its masters; the others are discovered). */
export function clusterEngine(nodes: readonly string[], name: string, options: RedisOptions): Engine {
  const seeds: ClusterNode[] = nodes.map((url) => {
    const parsed = new URL(url);
    return { host: parsed.hostname, port: Number(parsed.port || 6379) };
  });
  const { retryStrategy, ...redisOptions } = options;
  const clusterRetryStrategy = retryStrategy ?? ((times: number) => Math.min(100 * 2 ** Math.min(times, 5), 2_000));
  const publisher = new Cluster(seeds, {
    lazyConnect: true, enableOfflineQueue: false, clusterRetryStrategy: (times) => clusterRetryStrategy(times) ?? null,
    redisOptions: { ...redisOptions, maxRetriesPerRequest: 0, connectionName: `${name}:pub` },
  });
  const subscriber = new Cluster(seeds, {
    lazyConnect: true, shardedSubscribers: true, clusterRetryStrategy: (times) => clusterRetryStrategy(times) ?? null,
    redisOptions: { ...redisOptions, connectionName: `${name}:sub` },
  });
  return {
    commands: publisher,
    publishCommand: "SPUBLISH",
    clustered: true,
    async connect() {
      await Promise.all([publisher.connect(), subscriber.connect()]);
    },
    publish: (kind, channel, text) => kind === "sharded" ? publisher.spublish(channel, text) : publisher.publish(channel, text),
    async subscribe(kind, channels) {
      if (kind === "classic") return subscriber.subscribe(...channels);
      return Promise.all(bySlot(channels).map((group) => subscriber.ssubscribe(...group)));
    },
    async unsubscribe(kind, channels) {
      if (kind === "classic") return subscriber.unsubscribe(...channels);
      return Promise.all(bySlot(channels).map((group) => subscriber.sunsubscribe(...group)));
    },
    onMessage(handler) {
      subscriber.on("message", handler);
      subscriber.on("smessage", handler);
    },
    publisherReady: () => publisher.status === "ready",
    subscriberReady: () => subscriber.status === "ready",
    onStatus(handler) {
      for (const [role, client] of [["publisher", publisher], ["subscriber", subscriber]] as const) {
        client.on("error", (error: Error) => handler(role, "error", error));
        client.on("node error", (error: Error) => handler(role, "error", error));
        client.on("ready", () => handler(role, "ready"));
      }
    },
    async close() {
      await Promise.allSettled([publisher.quit(), subscriber.quit()]);
      publisher.disconnect();
      subscriber.disconnect();
    },
  };
}
