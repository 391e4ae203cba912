/**
 * `TopicRoutes`: which topic channels this node listens to in Redis. A channel is subscribed
 * when the node's first local subscriber of its topic appears and unsubscribed `lingerMs` after
 * the last one left (a topic that comes back within the linger costs nothing). Requests made
 * in one turn of the event loop go out as one SUBSCRIBE (or UNSUBSCRIBE) naming them all.
 *
 * `add` answers a promise that settles when Redis acknowledged the subscription, so a join can
 * wait for it: a broadcast that Redis receives after that moment reaches this node. While the
 * subscriber connection is down the promise settles at once (the channel is subscribed when
 * the connection comes back; pub/sub is at-most-once meanwhile), and after `ackTimeoutMs`
 * without an answer it settles too, with a warning.
 */
import type { Logger } from "@cinder/server";

/** How routes reach Redis. */
export interface RouteLink {
  /** SUBSCRIBE (or SSUBSCRIBE); settles on Redis's acknowledgement. */
  subscribe(channels: readonly string[]): Promise<unknown>;
  /** UNSUBSCRIBE (or SUNSUBSCRIBE). */
  unsubscribe(channels: readonly string[]): Promise<unknown>;
  /** True while the subscriber connection is up. */
  ready(): boolean;
}

/** Counters of a `TopicRoutes`, for benchmarks and metrics. */
export interface RouteStats {
  /** Channels listened to now (lingering ones included). */
  channels: number;
  /** SUBSCRIBE / UNSUBSCRIBE commands sent. */
  subscribeCommands: number;
  unsubscribeCommands: number;
  /** Channels named by those commands. */
  channelsSubscribed: number;
  channelsUnsubscribed: number;
}

interface Pending {
  promise: Promise<void>;
  resolve: () => void;
}

/** The topic channels this node listens to. */
export class TopicRoutes {
  /** Channels subscribed or being subscribed (lingering ones included). */
  private readonly active = new Set<string>();
  private readonly inflight = new Map<string, Pending>();
  private readonly lingering = new Map<string, NodeJS.Timeout>();
  private readonly toSubscribe = new Set<string>();
  private readonly toUnsubscribe = new Set<string>();
  private flushScheduled = false;
  private opened = false;
  private closed = false;
  private readonly counters = { subscribeCommands: 0, unsubscribeCommands: 0, channelsSubscribed: 0, channelsUnsubscribed: 0 };

  constructor(
    private readonly link: RouteLink,
    private readonly logger: Logger,
    private readonly lingerMs: number,
    private readonly ackTimeoutMs: number,
  ) {}

  /** Listens to `channel`; the promise settles when Redis acknowledged it (undefined: it already listens). */
  add(channel: string): Promise<void> | undefined {
    if (this.closed) return undefined;
    const timer = this.lingering.get(channel);
    if (timer !== undefined) {
      clearTimeout(timer);
      this.lingering.delete(channel);
      return this.inflight.get(channel)?.promise;
    }
    if (this.toUnsubscribe.delete(channel)) {
      // Its UNSUBSCRIBE was not sent yet: Redis still has (or is acknowledging) the subscription.
      this.active.add(channel);
      return this.inflight.get(channel)?.promise;
    }
    if (this.active.has(channel)) return this.inflight.get(channel)?.promise;
    this.active.add(channel);
    let resolve!: () => void;
    const promise = new Promise<void>((done) => { resolve = done; });
    this.inflight.set(channel, { promise, resolve });
    this.toSubscribe.add(channel);
    this.schedule();
    return promise;
  }

  /** Stops listening to `channel` after the linger. */
  remove(channel: string): void {
    if (this.closed || !this.active.has(channel) || this.lingering.has(channel)) return;
    const drop = (): void => {
      this.lingering.delete(channel);
      this.active.delete(channel);
      if (this.toSubscribe.delete(channel)) {
        // Its SUBSCRIBE was not sent yet: nothing to undo in Redis.
        this.inflight.get(channel)?.resolve();
        this.inflight.delete(channel);
        return;
      }
      this.toUnsubscribe.add(channel);
      this.schedule();
    };
    if (this.lingerMs <= 0) {
      drop();
      return;
    }
    const timer = setTimeout(drop, this.lingerMs);
    timer.unref();
    this.lingering.set(channel, timer);
  }

  /** Starts sending commands (the connections are up); what was asked before goes out now. */
  open(): void {
    this.opened = true;
    this.schedule();
  }

  /**
   * Subscribes every channel again (after the subscriber connection came back): one that
   * failed while the connection dropped is listened to again. Subscribing twice is harmless.
   */
  resync(): void {
    if (!this.opened || this.closed) return;
    const channels = [...this.active].filter((channel) => !this.toSubscribe.has(channel));
    for (let i = 0; i < channels.length; i += 1000) {
      const chunk = channels.slice(i, i + 1000);
      this.counters.subscribeCommands++;
      this.counters.channelsSubscribed += chunk.length;
      this.link.subscribe(chunk).catch((error: Error) => this.logger.warn({ err: error.message }, "redis: resubscribing failed"));
    }
  }

  /** Stops: pending promises settle, nothing more is sent. */
  close(): void {
    this.closed = true;
    for (const timer of this.lingering.values()) clearTimeout(timer);
    this.lingering.clear();
    for (const pending of this.inflight.values()) pending.resolve();
    this.inflight.clear();
  }

  /** The counters. */
  stats(): RouteStats {
    return { channels: this.active.size, ...this.counters };
  }

  private schedule(): void {
    if (this.flushScheduled || !this.opened || this.closed) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    if (this.closed) return;
    // A channel is never in both sets (add and remove take it out of the other), so the order of the two commands does not matter.
    if (this.toUnsubscribe.size > 0) {
      const channels = [...this.toUnsubscribe];
      this.toUnsubscribe.clear();
      this.counters.unsubscribeCommands++;
      this.counters.channelsUnsubscribed += channels.length;
      this.link.unsubscribe(channels).catch((error: Error) => this.logger.warn({ err: error.message, channels: channels.length }, "redis: UNSUBSCRIBE failed"));
    }
    if (this.toSubscribe.size === 0) return;
    const channels = [...this.toSubscribe];
    this.toSubscribe.clear();
    this.counters.subscribeCommands++;
    this.counters.channelsSubscribed += channels.length;
    // The waiters of this SUBSCRIBE; a later one for the same channel (after an UNSUBSCRIBE) has its own.
    const waiters = channels.map((channel) => this.inflight.get(channel));
    const settle = (): void => {
      channels.forEach((channel, i) => {
        const waiter = waiters[i];
        waiter?.resolve();
        if (waiter !== undefined && this.inflight.get(channel) === waiter) this.inflight.delete(channel);
      });
    };
    const connected = this.link.ready();
    const timer = setTimeout(() => {
      if (connected) this.logger.warn({ channels: channels.length, ms: this.ackTimeoutMs }, "redis: SUBSCRIBE not acknowledged in time; joins go on");
      settle();
    }, connected ? this.ackTimeoutMs : 0);
    timer.unref();
    this.link.subscribe(channels).then(
      () => { clearTimeout(timer); settle(); },
      (error: Error) => {
        clearTimeout(timer);
        settle();
        this.logger.warn({ err: error.message, channels: channels.length }, "redis: SUBSCRIBE failed; subscribed again when the connection returns");
      },
    );
  }
}
