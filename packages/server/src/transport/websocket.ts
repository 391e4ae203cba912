/**
 * The WebSocket transport, on `ws`: checks the handshake (method, origin, subprotocols with
 * phoenix.js's `authToken`, vsn, the socket's `connect` and `id`) before upgrading, refusing
 * with an HTTP status when any check fails; then carries frames between the socket and a
 * `SocketConnection`, and closes connections that stay silent longer than the idle timeout.
 */
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer, WebSocket } from "ws";
import { PHOENIX_SUBPROTOCOL, decodeParams, readAuthToken } from "@cinder/protocol";
import { DrainingMap, within } from "../draining.js";
import type { Logger } from "../logger.js";
import { diagnostics, type TransportMessage } from "../diagnostics.js";
import type { Frame } from "../serializer/index.js";
import { authorize, SocketConnection, type SocketContext, type SocketDefinition, type TransportSink } from "../socket/index.js";
import { connectInfo, refuseUpgrade } from "./http.js";
import type { ConnectionsPerIp } from "./per-ip.js";
import { WireFactory, type Wire } from "./ws-wire.js";

/** The bound on what a connection has not read. */
export interface SlowConsumerLimits {
  /** A connection whose unsent data exceeds this many bytes is cut off (1013). */
  readonly maxBufferedBytes: number;
  /** How long a cut-off connection has to read up to its close frame before its TCP socket is destroyed. */
  readonly closeTimeoutMs: number;
}

/** A connection's sink, whether it sent anything since the idle sweeper last looked, and since when it is quiet. */
interface IdleState {
  readonly sink: WebSocketSink;
  active: boolean;
  quietSince: number;
}

/** Options of the WebSocket transport. */
export interface WebSocketTransportOptions {
  /** The socket declaration (connect, id, channels). */
  socket: SocketDefinition;
  /** Shared socket-layer context. */
  context: SocketContext;
  /** Largest incoming message in bytes; larger closes the connection with 1009. */
  maxFrameSize: number;
  /** Closes a connection after this long without receiving anything. */
  idleTimeoutMs: number;
  /** Origin check for the handshake. */
  checkOrigin: (request: IncomingMessage) => boolean;
  /** Connections per client address. */
  perIp: ConnectionsPerIp;
  /** When a connection that does not read is cut off, and how long its close frame may take. */
  slowConsumer: SlowConsumerLimits;
  /** Write prebuilt frames straight to the TCP socket under `ws` when its internals allow (`ws-wire.ts`); false: always `ws.send`. */
  directWrite: boolean;
  logger: Logger;
}


/** Parses offered subprotocols into the auth token (if any) and whether they are acceptable. */
function readSubprotocols(header: string | undefined): { acceptable: boolean; authToken: string | undefined } {
  if (header === undefined) return { acceptable: true, authToken: undefined };
  const offered = header.split(",").map((entry) => entry.trim());
  return { acceptable: offered.includes(PHOENIX_SUBPROTOCOL), authToken: readAuthToken(offered) };
}

/**
 * One WebSocket connection: the sink a `SocketConnection` writes to. Frames go to the wire (see
 * `ws-wire.ts`); when, after a flush, what the kernel did not take is over the socket's buffer
 * mark, the sink holds further frames itself, in order, and hands them on once the wire has
 * drained. So a slow reader's backlog sits here, where it can be dropped, past at most one
 * flush's worth of frames in Node.js. Once the unsent data (the wire's and the
 * sink's) exceeds `maxBufferedBytes`, the client is a slow consumer: the sink drops its own
 * backlog, sends one close frame (1013) right behind the whole frames already handed to the
 * wire, and destroys the TCP socket `closeTimeoutMs` later unless
 * the client has closed by then. A client that resumes reading within that time reads complete
 * frames and then the close frame; one that does not is cut off (it sees the connection drop).
 */
class WebSocketSink implements TransportSink {
  private slow = false;
  private readonly wire: Wire;
  /** Frames held for the wire from `head` on (in order), and their bytes. */
  private backlog: Array<Frame | undefined> = [];
  private head = 0;
  private backlogBytes = 0;
  private waiting = false;
  private readonly drained = (): void => this.flushBacklog(false);

  constructor(
    private readonly ws: WebSocket,
    wires: WireFactory,
    private readonly limits: SlowConsumerLimits,
    private readonly logger: Logger,
    /** This transport's message for transport-level diagnostics events (built once). */
    private readonly event: TransportMessage,
  ) {
    this.wire = wires.open(ws, () => this.afterFlush());
  }

  send(frame: Frame, control = false): void {
    if (this.slow || this.ws.readyState !== WebSocket.OPEN) return;
    // A control frame (a heartbeat reply) goes ahead of what is held; everything else behind it.
    if (!control && (this.waiting || this.head < this.backlog.length)) {
      this.backlog.push(frame);
      this.backlogBytes += frame.length;
      this.checkBuffer();
      return;
    }
    this.write(frame);
  }

  private write(frame: Frame): void {
    if (diagnostics.messageOut.hasSubscribers) diagnostics.messageOut.publish(this.event);
    this.wire.write(frame);
  }

  /** After the wire flushed: cut off over the bound; hold further frames while it is over its mark or frames are held. */
  private afterFlush(): void {
    if (this.slow) return;
    const unsent = this.wire.unsent;
    if (unsent + this.backlogBytes > this.limits.maxBufferedBytes) this.cutOff();
    else if (!this.waiting && (unsent > this.wire.mark || this.head < this.backlog.length)) {
      this.waiting = true;
      this.wire.onDrain(this.drained);
    }
  }

  /**
   * Hands held frames to the wire: about the socket's mark at a time (at least one frame), so a
   * slow reader's backlog stays here — where a heartbeat reply can overtake it and a cut-off can
   * drop it — rather than in the socket's buffer; `all` hands over everything (before a close).
   */
  private flushBacklog(all: boolean): void {
    this.waiting = false;
    if (this.slow || this.ws.readyState !== WebSocket.OPEN) return;
    const frames = this.backlog;
    const budget = all ? Infinity : this.wire.mark;
    let handed = 0;
    while (this.head < frames.length && handed < budget) {
      const frame = frames[this.head]!;
      frames[this.head++] = undefined; // let it go once written
      handed += frame.length;
      this.backlogBytes -= frame.length;
      this.write(frame);
    }
    if (this.head === frames.length) {
      this.backlog = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > frames.length) {
      this.backlog = frames.slice(this.head);
      this.head = 0;
    }
  }

  /** Cuts the client off when what it has not read exceeds the bound. */
  private checkBuffer(): void {
    if (!this.slow && this.wire.unsent + this.backlogBytes > this.limits.maxBufferedBytes) this.cutOff();
  }

  private cutOff(): void {
    this.slow = true;
    if (diagnostics.slowConsumer.hasSubscribers) diagnostics.slowConsumer.publish(this.event);
    this.logger.warn({ buffered: this.wire.unsent + this.backlogBytes, dropped: this.backlog.length - this.head, limit: this.limits.maxBufferedBytes },
      "slow consumer cut off");
    this.backlog = [];
    this.head = 0;
    this.backlogBytes = 0;
    this.ws.close(1013, "slow consumer");
    setTimeout(() => this.ws.terminate(), this.limits.closeTimeoutMs).unref();
  }

  close(code: number, reason: string): void {
    // A close that is not a cut-off goes behind every frame sent before it, held ones included.
    if (this.head < this.backlog.length) this.flushBacklog(true);
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close(code, reason);
  }
}

/** The WebSocket transport of an endpoint. */
export class WebSocketTransport {
  private readonly server: WebSocketServer;
  /** Open connections, with what the idle sweeper needs of each. */
  private readonly sockets = new DrainingMap<WebSocket, IdleState>();
  private readonly sweeper: NodeJS.Timeout;
  /** The message of this transport's transport-level diagnostics events. */
  private readonly event: TransportMessage;
  private readonly wires: WireFactory;

  constructor(private readonly options: WebSocketTransportOptions) {
    this.event = { endpoint: options.context.endpointId, transport: "websocket" };
    this.wires = new WireFactory(options.directWrite, options.logger);
    this.server = new WebSocketServer({
      noServer: true,
      maxPayload: options.maxFrameSize,
      perMessageDeflate: false,
      clientTracking: false,
      handleProtocols: (protocols) => (protocols.has(PHOENIX_SUBPROTOCOL) ? PHOENIX_SUBPROTOCOL : false),
    });
    // One sweeper for every connection (not a timer each): a connection silent for the whole
    // timeout is closed, between 1 and 1.25 timeouts after the last thing it sent.
    const period = Math.max(10, Math.floor(options.idleTimeoutMs / 4));
    this.sweeper = setInterval(() => this.sweepIdle(), period);
    this.sweeper.unref();
  }

  private sweepIdle(): void {
    const now = Date.now();
    for (const state of this.sockets.values()) {
      if (state.active) {
        state.active = false;
        state.quietSince = now;
      } else if (now - state.quietSince >= this.options.idleTimeoutMs) {
        this.options.logger.debug({ idleMs: now - state.quietSince }, "closing an idle connection");
        state.sink.close(1001, "idle timeout");
        state.quietSince = Infinity;
      }
    }
  }

  /** Open WebSocket connections. */
  get size(): number {
    return this.sockets.size;
  }

  /** Handles an upgrade request for this transport's path. */
  async handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer, uri: URL): Promise<void> {
    socket.on("error", () => socket.destroy());
    const started = performance.now();
    const { logger } = this.options;
    const endpoint = this.options.context.endpointId;
    const refuse = (status: number, reason?: string): void => {
      if (diagnostics.connect.hasSubscribers) {
        diagnostics.connect.publish({ endpoint, transport: "websocket", accepted: false, status, durationMs: performance.now() - started });
      }
      refuseUpgrade(socket, status, reason);
    };
    if (request.method !== "GET") return refuse(400, "WebSocket upgrades must use GET");
    if (!this.options.checkOrigin(request)) {
      logger.warn({ origin: request.headers.origin }, "connection refused: origin not allowed");
      return refuse(403);
    }
    const subprotocols = readSubprotocols(request.headers["sec-websocket-protocol"]);
    if (!subprotocols.acceptable) {
      logger.warn({ protocols: request.headers["sec-websocket-protocol"] }, "connection refused: no acceptable subprotocol");
      return refuse(403);
    }
    const address = request.socket.remoteAddress ?? "";
    if (!this.options.perIp.acquire(address)) {
      logger.warn({ address }, "connection refused: too many connections from this address");
      return refuse(429, "too many connections from this address");
    }
    let upgraded = false;
    try {
      const params = decodeParams(uri.search.slice(1));
      const outcome = await authorize(this.options.socket, params,
        connectInfo(request, uri, "websocket", subprotocols.authToken), logger, this.options.context.revocations);
      if (socket.destroyed) return;
      if (outcome.kind === "refuse") return refuse(outcome.status, outcome.reason);
      upgraded = true;
      this.server.handleUpgrade(request, socket, head, (ws) => {
        if (diagnostics.connect.hasSubscribers) {
          diagnostics.connect.publish({ endpoint, transport: "websocket", accepted: true, durationMs: performance.now() - started });
        }
        const sink = new WebSocketSink(ws, this.wires, this.options.slowConsumer, logger, this.event);
        const connection = new SocketConnection(this.options.context, sink, outcome);
        this.track(ws, sink, connection, address);
      });
    } finally {
      if (!upgraded) this.options.perIp.release(address);
    }
  }

  /** Closes every connection with `code`. */
  closeAll(code: number, reason: string): void {
    for (const { sink } of this.sockets.values()) sink.close(code, reason);
  }

  /**
   * Closes every connection with `code`, in batches spread evenly over `windowMs`, so clients
   * told to reconnect elsewhere do not all come back at once.
   */
  async closeGradually(code: number, reason: string, windowMs: number): Promise<void> {
    const all = [...this.sockets.values()].map((state) => state.sink);
    const batches = Math.max(1, Math.min(all.length, Math.ceil(windowMs / 50)));
    const size = Math.ceil(all.length / batches);
    for (let i = 0; i < all.length; i += size) {
      for (const sink of all.slice(i, i + size)) sink.close(code, reason);
      if (i + size < all.length) await new Promise((resolve) => setTimeout(resolve, windowMs / batches));
    }
  }

  /** Waits until every connection has closed (or `timeoutMs` passed, then destroys the rest). */
  async drain(timeoutMs: number): Promise<void> {
    await within(this.sockets.whenEmpty(), timeoutMs);
    for (const ws of this.sockets.keys()) ws.terminate();
    clearInterval(this.sweeper);
  }

  private track(ws: WebSocket, sink: WebSocketSink, connection: SocketConnection, address: string): void {
    const { logger } = this.options;
    const event = this.event;
    const idle: IdleState = { sink, active: false, quietSince: Date.now() };
    this.sockets.set(ws, idle);
    ws.on("message", (data, isBinary) => {
      idle.active = true;
      if (diagnostics.messageIn.hasSubscribers) diagnostics.messageIn.publish(event);
      try {
        connection.handleFrame(data as Buffer, isBinary);
      } catch (error) {
        logger.error({ err: error }, "error while handling a frame; closing the connection");
        if (diagnostics.error.hasSubscribers) diagnostics.error.publish({ endpoint: event.endpoint, kind: "internal" });
        sink.close(1011, "internal error");
      }
    });
    ws.on("error", (error) => {
      logger.debug({ err: error }, "websocket error");
    });
    ws.on("close", (code) => {
      logger.debug({ code }, "connection closed");
      if (diagnostics.close.hasSubscribers) diagnostics.close.publish(event);
      this.sockets.delete(ws);
      this.options.perIp.release(address);
      connection.transportClosed();
    });
  }
}
