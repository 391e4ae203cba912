/**
 * `RedisHistory`: the shared history store for a cluster on Redis. Stream topics' publications
 * are numbered, kept and published by one Lua script (stream-scripts.ts), so every node sees
 * one order per topic and a client that comes back on another node recovers the same way; a
 * node's death loses nothing Redis accepted. Bounded per topic by size and TTL. When Redis
 * loses the keys (a restart without persistence, an expiry) the next publication starts a new
 * epoch, which clients coming back are told (`recovered: false`): never a silent gap.
 *
 * Made by `RedisAdapter.history()`, so it publishes on the channel the adapter routes the topic on and uses
 * its connection (which fails fast while Redis is down: a publication that cannot be recorded
 * is not delivered anywhere, and PubSub's `onHistoryError` hears of it).
 */
import type { Cluster, Redis } from "ioredis";
import { newEpoch, type HistoryRead, type HistoryStore, type Publication, type StreamLimits, type StreamPosition } from "@cinder/server";
import { decodeEnvelope, encodeTail } from "./codec.js";
import { APPEND, READ } from "./stream-scripts.js";

/** What `RedisHistory` needs from its adapter. */
export interface RedisHistoryLink {
  /** The connection commands go through (a single Redis or a Redis Cluster). */
  readonly redis: Redis | Cluster;
  /** The key prefix (the adapter's namespace). */
  readonly namespace: string;
  /** The channel a topic's publications go on (the one its subscribers' nodes listen to). */
  channelOf(topic: string): string;
  /** "SPUBLISH" when that channel is a shard channel (it then shares the topic's hash slot), else "PUBLISH". */
  readonly publishCommand: "PUBLISH" | "SPUBLISH";
}

type Reply = Array<string | number>;

/** A history store in Redis, shared by every node of the cluster. */
export class RedisHistory implements HistoryStore {
  readonly deliversItself = true;

  /** On a Redis Cluster: each topic's append in flight, so the next waits for it (see `append`). */
  private readonly inFlight = new Map<string, Promise<unknown>>();

  constructor(private readonly link: RedisHistoryLink) {}

  private keys(topic: string): [string, string] {
    const base = `${this.link.namespace}:stream:{${topic}}`;
    return [`${base}:meta`, `${base}:log`];
  }

  /**
   * Records and publishes one publication. On a single Redis one connection keeps a node's
   * appends in the order they were made. A Redis Cluster client may resend a command (a
   * redirection, a connection still being set up) after later ones, which would put a node's
   * publications into the stream out of their order: there each topic's append waits for the
   * one before it (one round trip per publication and topic on that node).
   */
  async append(topic: string, event: string, payload: unknown, limits: StreamLimits, tag?: string): Promise<undefined> {
    const exclude = tag === undefined ? "null" : JSON.stringify(tag);
    const run = (): Promise<unknown> => this.link.redis.eval(APPEND, 2, ...this.keys(topic), newEpoch(), limits.size,
      Math.ceil(limits.ttlMs), this.link.channelOf(topic), exclude, encodeTail(topic, event, payload), this.link.publishCommand);
    if (!this.link.redis.isCluster) {
      await run();
      return undefined;
    }
    const previous = this.inFlight.get(topic) ?? Promise.resolve();
    const next = previous.then(run, run);
    this.inFlight.set(topic, next);
    try {
      await next;
    } finally {
      if (this.inFlight.get(topic) === next) this.inFlight.delete(topic);
    }
    return undefined;
  }

  since(topic: string, from: StreamPosition, limits: StreamLimits): Promise<HistoryRead> {
    return this.read(topic, limits, from.epoch, from.offset);
  }

  last(topic: string, count: number, limits: StreamLimits): Promise<HistoryRead> {
    return this.read(topic, limits, "", Math.max(0, Math.floor(count)));
  }

  close(): void {}

  private async read(topic: string, limits: StreamLimits, epoch: string, offset: number): Promise<HistoryRead> {
    const reply = await this.link.redis.eval(READ, 2, ...this.keys(topic), newEpoch(), limits.size, Math.ceil(limits.ttlMs), epoch, offset) as Reply;
    const position = { epoch: String(reply[0]), offset: Number(reply[1]) };
    if (reply[2] === "gap") return { kind: "gap", position };
    const publications: Publication[] = [];
    for (const text of reply.slice(3)) {
      const { message } = decodeEnvelope(String(text));
      if (message.position === undefined) throw new Error("a stream log entry without a position");
      publications.push({ topic: message.topic, event: message.event, payload: message.payload, position: message.position });
    }
    return { kind: "complete", publications, position };
  }
}
