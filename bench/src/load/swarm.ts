/**
 * Many raw `ws` subscribers in the load process, for any of the three servers (see
 * dialects.ts): connects them at most `batch` at a time, subscribes each to its topics, and
 * counts deliveries with one shared handler that classifies a frame by its first bytes and
 * reads its send stamp without parsing JSON, recording the delivery latency.
 */
import { WebSocket } from "ws";
import { Kind, readStamp, type Dialect } from "./dialects.js";
import { Latencies, Waiter } from "./measure.js";

/** Options of a swarm. */
export interface SwarmOptions {
  port: number;
  dialect: Dialect;
  /** At most this many connections connecting/subscribing at once. */
  batch: number;
  /** The topics connection `index` subscribes to. */
  topicsOf(index: number): string[];
  /** The `user` parameter of connection `index`, if any. */
  userOf?(index: number): string | undefined;
}

const CONNECTING = 0;
const SUBSCRIBING = 1;
const READY = 2;
const CLOSED = 3;

/** One subscriber connection. */
export class Subscriber {
  ws: WebSocket | null = null;
  state = CONNECTING;
  acks = 0;
  deliveries = 0;
  /** The client's local TCP port (to find which server worker holds the connection). */
  localPort = 0;

  constructor(readonly index: number, readonly topics: string[]) {}
}

/** A fleet of subscribers. */
export class Swarm {
  readonly subscribers: Subscriber[] = [];
  /** Subscribers with every subscription acknowledged. */
  ready = 0;
  inflight = 0;
  deliveries = 0;
  lastDeliveryAt = 0;
  /** Latencies of deliveries, while recording. */
  latencies: Latencies | null = null;
  /** While recording by group: subscriber index → group, and one recorder per group. */
  private groups: Uint8Array | null = null;
  groupLatencies: Latencies[] | null = null;
  fatal: string | undefined;
  errors = 0;
  unexpectedCloses = 0;
  readonly errorSamples: string[] = [];
  readonly waiter = new Waiter();
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private closing = false;
  private target = Infinity;

  constructor(private readonly options: SwarmOptions) {
    if (options.dialect.heartbeat !== undefined) {
      this.heartbeatTimer = setInterval(() => this.keepalive(), 25_000);
      this.heartbeatTimer.unref();
    }
  }

  /** Opens connections until there are `total`, at most `batch` in flight, and waits (until `deadline`) until all are subscribed. */
  async grow(total: number, deadline: number): Promise<void> {
    const describe = (): string => `${this.ready}/${total} subscribers ready, ${this.inflight} connecting`;
    while (this.subscribers.length < total) {
      if (this.inflight >= this.options.batch) {
        await this.waiter.until(() => this.inflight < this.options.batch, deadline, describe, () => this.fatal);
      }
      const index = this.subscribers.length;
      const subscriber = new Subscriber(index, this.options.topicsOf(index));
      this.subscribers.push(subscriber);
      this.open(subscriber);
    }
    await this.waiter.until(() => this.ready === total, deadline, describe, () => this.fatal);
  }

  /** Sends the dialect's heartbeat on every connection (Cinder closes sockets silent for 60 s). */
  keepalive(): void {
    const frame = this.options.dialect.heartbeat;
    if (frame === undefined) return;
    // Restart the timer, so no periodic heartbeat lands in the measurement that follows.
    clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = setInterval(() => this.keepalive(), 25_000);
    this.heartbeatTimer.unref();
    for (const subscriber of this.subscribers) {
      if (subscriber.ws !== null && subscriber.ws.readyState === WebSocket.OPEN) subscriber.ws.send(frame);
    }
  }

  /** Starts recording latencies (expecting about `expected` deliveries) and returns the counter baseline. */
  record(expected: number, groups?: { of: Uint8Array; count: number }): number {
    this.latencies = new Latencies(expected);
    this.groups = groups?.of ?? null;
    this.groupLatencies = groups === undefined ? null : Array.from({ length: groups.count }, () => new Latencies(expected));
    return this.deliveries;
  }

  /** Waits until `deliveries` reaches `target`. */
  async waitDeliveries(target: number, deadline: number): Promise<void> {
    this.target = target;
    await this.waiter.until(() => this.deliveries >= target, deadline,
      () => `${this.deliveries}/${target} deliveries`, () => this.fatal);
  }

  /** Closes every connection at once (no close handshake). */
  closeAll(): void {
    this.closing = true;
    clearInterval(this.heartbeatTimer);
    for (const subscriber of this.subscribers) {
      subscriber.state = CLOSED;
      subscriber.ws?.terminate();
      subscriber.ws = null;
    }
  }

  private open(subscriber: Subscriber): void {
    const { dialect, port } = this.options;
    const ws = new WebSocket(`ws://127.0.0.1:${port}${dialect.path(this.options.userOf?.(subscriber.index))}`, {
      perMessageDeflate: false,
      skipUTF8Validation: true,
    });
    subscriber.ws = ws;
    this.inflight++;
    ws.on("open", () => {
      subscriber.state = SUBSCRIBING;
      subscriber.localPort = (ws as unknown as { _socket?: { localPort?: number } })._socket?.localPort ?? 0;
      if (dialect.handshake !== undefined) ws.send(dialect.handshake);
      else this.subscribe(subscriber);
    });
    ws.on("message", (data: Buffer, isBinary: boolean) => {
      if (!isBinary) this.onMessage(subscriber, data);
    });
    ws.on("error", (error: Error) => {
      this.errors++;
      if (this.errorSamples.length < 10) this.errorSamples.push(`#${subscriber.index}: ${error.message}`);
    });
    ws.on("close", (code: number) => {
      if (this.closing || subscriber.state === CLOSED) return;
      this.unexpectedCloses++;
      if (subscriber.state !== READY) this.inflight--;
      else this.ready--;
      subscriber.state = CLOSED;
      this.fatal ??= `subscriber #${subscriber.index} closed by the server or the network (code ${code})` +
        (this.errorSamples.length > 0 ? `; errors: ${this.errorSamples.slice(0, 3).join("; ")}` : "");
      this.waiter.notify();
    });
  }

  private subscribe(subscriber: Subscriber): void {
    for (const frame of this.options.dialect.subscribeFrames(subscriber.topics)) subscriber.ws!.send(frame);
  }

  private onMessage(subscriber: Subscriber, data: Buffer): void {
    switch (this.options.dialect.classify(data)) {
      case Kind.Delivery: {
        const now = performance.now();
        this.deliveries++;
        subscriber.deliveries++;
        this.lastDeliveryAt = now;
        if (this.latencies !== null) {
          const latency = now - readStamp(data);
          this.latencies.record(latency);
          if (this.groupLatencies !== null) this.groupLatencies[this.groups![subscriber.index]!]?.record(latency);
        }
        if (this.deliveries === this.target) this.waiter.notify();
        return;
      }
      case Kind.Ack:
        if (++subscriber.acks === subscriber.topics.length && subscriber.state === SUBSCRIBING) {
          subscriber.state = READY;
          this.ready++;
          this.inflight--;
          this.waiter.notify();
        }
        return;
      case Kind.Handshake:
        this.subscribe(subscriber);
        return;
      case Kind.Ping:
        subscriber.ws?.send(this.options.dialect.pong!);
        return;
      case Kind.Refused:
        this.fatal ??= `subscriber #${subscriber.index} refused: ${data.toString("utf8", 0, 200)}`;
        this.waiter.notify();
        return;
      default:
        return;
    }
  }
}
