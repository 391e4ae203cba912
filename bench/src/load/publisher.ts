/**
 * The publishing side of the load process. Cinder and bare ws publish with raw frames (Cinder's
 * publisher joins the topics it publishes on — at most 100 channels per connection, so many
 * topics take several connections — and pushes `broadcast_from`); Socket.IO publishes with the
 * real socket.io-client (`transports: ["websocket"]`). Every server gets the same publisher
 * connections (one per 99 topics) and the same topic → connection routing. Pacing: `publishAtRate` spreads `count`
 * messages evenly over time (catching up if a timer fires late); `publishBurst` sends them all
 * in one synchronous loop.
 */
import { io, type Socket as IoSocket } from "socket.io-client";
import { WebSocket } from "ws";
import { Kind, type Dialect } from "./dialects.js";
import { Waiter } from "./measure.js";

/** Publishes payloads to topics. */
export interface Publisher {
  publish(topic: string, payload: object): void;
  close(): void;
}

interface RawConnection {
  ws: WebSocket;
  acks: number;
  expected: number;
}

/** Raw-frame publisher (Cinder, bare ws). */
export class RawPublisher implements Publisher {
  private readonly route = new Map<string, { connection: RawConnection; joinIndex: number }>();
  private readonly connections: RawConnection[] = [];
  private ref = 0;
  private fatal: string | undefined;
  private readonly waiter = new Waiter();

  private constructor(private readonly port: number, private readonly dialect: Dialect) {}

  /**
   * Connects in groups of at most 99 topics per connection (Cinder joins them: at most 100
   * channels per connection). The other servers need no join, but get the same connections and
   * the same topic → connection routing, so every server reads the same traffic shape.
   */
  static async open(port: number, dialect: Dialect, topics: readonly string[], deadline: number): Promise<RawPublisher> {
    const publisher = new RawPublisher(port, dialect);
    const groups = publisherGroups(topics);
    for (let g = 0; g < groups.length; g += 50) {
      await Promise.all(groups.slice(g, g + 50).map((group) => publisher.connect(group, deadline)));
    }
    return publisher;
  }

  publish(topic: string, payload: object): void {
    const target = this.route.get(topic);
    if (target === undefined) throw new Error(`the publisher has not joined ${topic}`);
    target.connection.ws.send(this.dialect.publishFrame(topic, JSON.stringify(payload), ++this.ref, target.joinIndex));
  }

  close(): void {
    for (const connection of this.connections) connection.ws.terminate();
  }

  /** The local TCP port of the first connection (to find which server worker holds it). */
  localPort(): number {
    return (this.connections[0]?.ws as unknown as { _socket?: { localPort?: number } } | undefined)?._socket?.localPort ?? 0;
  }

  private async connect(topics: string[], deadline: number): Promise<void> {
    const ws = new WebSocket(`ws://127.0.0.1:${this.port}${this.dialect.path("publisher")}`, { perMessageDeflate: false });
    const joins = this.dialect.id === "cinder";
    const connection: RawConnection = { ws, acks: 0, expected: joins ? topics.length : 0 };
    this.connections.push(connection);
    topics.forEach((topic, i) => this.route.set(topic, { connection, joinIndex: i + 1 }));
    ws.on("message", (data: Buffer) => {
      const kind = this.dialect.classify(data);
      if (kind === Kind.Ack) connection.acks++;
      else if (kind === Kind.Refused) this.fatal ??= `publisher join refused: ${data.toString("utf8", 0, 200)}`;
      this.waiter.notify();
    });
    ws.on("error", (error) => { this.fatal ??= `publisher: ${error.message}`; });
    await new Promise<void>((resolve, reject) => {
      ws.once("open", resolve);
      ws.once("error", reject);
      setTimeout(() => reject(new Error("publisher connection timed out")), Math.max(0, deadline - performance.now())).unref();
    });
    if (joins) for (const frame of this.dialect.subscribeFrames(topics)) ws.send(frame);
    await this.waiter.until(() => connection.acks >= connection.expected, deadline,
      () => `publisher joins ${connection.acks}/${connection.expected}`, () => this.fatal);
    if (this.dialect.heartbeat !== undefined) {
      const timer = setInterval(() => { if (ws.readyState === WebSocket.OPEN) ws.send(this.dialect.heartbeat!); }, 25_000);
      timer.unref();
      ws.once("close", () => clearInterval(timer));
    }
  }
}

/** socket.io-client publisher (one client per group of topics, like the raw publishers). */
export class SocketIoPublisher implements Publisher {
  private readonly route = new Map<string, IoSocket>();

  private constructor(private readonly sockets: IoSocket[]) {}

  static async open(port: number, topics: readonly string[], deadline: number): Promise<SocketIoPublisher> {
    const groups = publisherGroups(topics);
    const sockets = await Promise.all(groups.map(async () => {
      const socket = io(`http://127.0.0.1:${port}`, { transports: ["websocket"], reconnection: false, forceNew: true, query: { user: "publisher" } });
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error("socket.io-client publisher did not connect")), Math.max(0, deadline - performance.now()));
        socket.once("connect", () => { clearTimeout(timer); resolve(); });
        socket.once("connect_error", (error) => { clearTimeout(timer); reject(error); });
      });
      return socket;
    }));
    const publisher = new SocketIoPublisher(sockets);
    groups.forEach((group, i) => { for (const topic of group) publisher.route.set(topic, sockets[i]!); });
    return publisher;
  }

  publish(topic: string, payload: object): void {
    const socket = this.route.get(topic);
    if (socket === undefined) throw new Error(`the publisher has no connection for ${topic}`);
    socket.emit("pub", topic, payload);
  }

  close(): void {
    for (const socket of this.sockets) socket.disconnect();
  }
}

/** Topics in groups of at most 99 (Cinder's 100 channels per connection, less one). */
export function publisherGroups(topics: readonly string[]): string[][] {
  const groups: string[][] = [];
  for (let i = 0; i < topics.length; i += 99) groups.push(topics.slice(i, i + 99));
  return groups.length === 0 ? [[]] : groups;
}

/** The publisher for a server. */
export function openPublisher(port: number, dialect: Dialect, topics: readonly string[], deadline: number): Promise<Publisher> {
  return dialect.id === "socketio" ? SocketIoPublisher.open(port, topics, deadline) : RawPublisher.open(port, dialect, topics, deadline);
}

/** Publishes `count` messages (`send(seq)`) evenly at `perSecond`; resolves after the last. */
export function publishAtRate(count: number, perSecond: number, send: (seq: number) => void): Promise<void> {
  return new Promise((resolve) => {
    const start = performance.now();
    let sent = 0;
    const tick = (): void => {
      const elapsed = performance.now() - start;
      const owed = Math.min(count, Math.floor((elapsed * perSecond) / 1000) + 1);
      while (sent < owed) send(sent++);
      if (sent >= count) {
        resolve();
        return;
      }
      const due = start + (sent * 1000) / perSecond;
      setTimeout(tick, Math.max(0, due - performance.now()));
    };
    tick();
  });
}

/** Publishes `count` messages back to back in one synchronous loop. */
export function publishBurst(count: number, send: (seq: number) => void): void {
  for (let seq = 0; seq < count; seq++) send(seq);
}
