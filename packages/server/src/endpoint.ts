/**
 * The endpoint: `attach(httpServer, options)` mounts a socket on any `node:http` / `node:https`
 * server — the WebSocket transport at `<path>/websocket`, and the long-poll transport at
 * `<path>/longpoll` when enabled — wires the layers together (transport
 * → socket → channel → PubSub), owns the configuration and its defaults, and offers
 * broadcasting from anywhere (an HTTP handler, a timer) and closing.
 */
import type { IncomingMessage, Server as HttpServer, ServerResponse } from "node:http";
import type { Server as HttpsServer } from "node:https";
import type { Duplex } from "node:stream";
import { ChannelRouter } from "./channel/index.js";
import { createLogger, type Logger } from "./logger.js";
import { PubSub, type HistoryQuery } from "./pubsub/index.js";
import { defaultStreamLimits, type HistoryRead } from "./history/index.js";
import { Revocations, REVOKE_EVENT, type SocketContext, type SocketDefinition } from "./socket/index.js";
import { compileOriginCheck, type OriginCheck } from "./transport/origin.js";
import { requestUrl } from "./transport/http.js";
import { WebSocketTransport } from "./transport/websocket.js";
import { LongPollTransport, longPollDefaults, type LongPollOptions } from "./transport/longpoll.js";
import { ConnectionsPerIp } from "./transport/per-ip.js";
import type { Rate } from "./socket/index.js";
import { randomBytes } from "node:crypto";
import type { Assigns } from "./channel/index.js";
import { DrainingMap, within } from "./draining.js";
import { ConnectionLimit, defaultMaxConnections } from "./connection-limit.js";

/** Endpoint options; every limit has a default. */
export interface EndpointOptions<A extends Assigns = Assigns> {
  /** The socket's declaration: `connect`, `id` and channel routes. */
  socket: SocketDefinition<A>;
  /** Mount path; the WebSocket transport is at `<path>/websocket`. Default `"/socket"`. */
  path?: string;
  /** The PubSub to broadcast on (give one with a cluster adapter); default a single-node PubSub. */
  pubsub?: PubSub;
  /** Origin check for browser connections. Default `true` (the origin's host must equal `Host`). */
  checkOrigin?: OriginCheck;
  /** Largest incoming frame in bytes; larger closes the connection with 1009. Default 1 MiB. */
  maxFrameSize?: number;
  /** Most channels one connection may join at once. Default 100. */
  maxChannels?: number;
  /** Close connections silent for this long (client heartbeats keep them open). Default 60 000 ms. */
  idleTimeoutMs?: number;
  /** How long an ending channel waits for a handler in flight before cleaning up. Default 5 000 ms. */
  shutdownTimeoutMs?: number;
  /** Where to log; default JSON lines on stderr at `LOG_LEVEL` (default "info"). */
  logger?: Logger;
  /** The long-poll transport at `<path>/longpoll`: `true` or options to enable it. Default off. */
  longpoll?: boolean | LongPollOptions;
  /** Joins per connection (token bucket), or false for none. Default 20/s, bursts of 100. */
  joinRate?: Rate | false;
  /** Messages per connection, heartbeats and leaves aside (token bucket), or false. Default 100/s, bursts of 300. */
  messageRate?: Rate | false;
  /** Heartbeats per connection (token bucket), or false. Default 5/s, bursts of 20 (phoenix.js sends one per 30 s). */
  heartbeatRate?: Rate | false;
  /** Rate-limit refusals a connection may earn per `rateLimitWindowMs` (a bucket) before it is closed (1008). Default 100. */
  rateLimitDisconnectAfter?: number;
  /** The window of `rateLimitDisconnectAfter`. Default 10 000 ms. */
  rateLimitWindowMs?: number;
  /** Longest topic in UTF-8 bytes. Default 1 024. */
  maxTopicLength?: number;
  /** Most open connections per client address (WebSocket and long-poll); 0 for no limit. Default 0. */
  maxConnectionsPerIp?: number;
  /**
   * Most open connections (WebSockets, handshakes in flight and long-poll sessions) this process
   * holds; a new one over it gets HTTP 503 with `Retry-After: 1` at once, and a log line (at most
   * one per 10 s, counting the refusals). 0 for no limit. Default: the process's limit on open
   * files (Linux: /proc/self/limits) minus a reserve of min(1 000, a quarter of it); no limit
   * where that cannot be read.
   */
  maxConnections?: number;
  /** Unsent bytes a WebSocket may hold before the client is cut off as a slow consumer (1013). Default 8 MiB. */
  maxBufferedBytes?: number;
  /** How long a slow consumer has to read up to its close frame before its TCP socket is destroyed. Default 1 000 ms. */
  slowConsumerCloseTimeoutMs?: number;
  /**
   * Write broadcast frames (built once) straight to the TCP socket under `ws`, checked against
   * `ws`'s internals at the first connection (falls back to `ws.send`, logged once); false:
   * always `ws.send`. Default true.
   */
  directWrite?: boolean;
  /**
   * How long `revoke(socketId)` keeps refusing the id's tokens issued before it (those whose
   * `connect` gave `issuedAt`): set it to your tokens' longest lifetime. Default 86 400 000 ms
   * (one day, Phoenix.Token's default max age).
   */
  revocationTtlMs?: number;
}

/** A mounted socket endpoint. */
export interface Endpoint {
  /** Identifies this endpoint in its diagnostics events (`endpoint` in each message; see `diagnostics.ts`). */
  readonly id: string;
  /** The PubSub that channels and `broadcast` use. */
  readonly pubsub: PubSub;
  /** The logger. */
  readonly logger: Logger;
  /** The mount path. */
  readonly path: string;
  /** The number of open connections on this node. */
  readonly connectionCount: number;
  /** The connection limit in force (`maxConnections`; 0: none). */
  readonly maxConnections: number;
  /** Broadcasts to every subscriber of `topic` on every node. */
  broadcast(topic: string, event: string, payload: unknown): void;
  /** Broadcasts to the subscribers of `topic` on this node only. */
  localBroadcast(topic: string, event: string, payload: unknown): void;
  /** Closes every transport of the socket named `socketId` (a `"disconnect"` broadcast on it). */
  disconnect(socketId: string): void;
  /**
   * Revokes the tokens of the socket named `socketId`, on every node: its open connections are
   * closed with 4003 "token revoked" (WebSocket; long-poll sessions end), and for
   * `revocationTtlMs` a token of that id issued at or before now — when `connect` or `refresh`
   * gives its `issuedAt` — is refused (403 on connect, 4003 on refresh). Tokens issued later (a
   * new sign-in) are accepted. The list is in memory: a node started after the revocation does
   * not know it (keep lasting revocations in your own store, and check it in `connect`).
   */
  revoke(socketId: string): void;
  /** The channel route pattern that matches `topic` (e.g. `"room:*"`), or undefined. */
  patternOf(topic: string): string | undefined;
  /**
   * A stream topic's history: `{ last: n }` or `{ since: position }` (docs/recovery.md);
   * undefined for a topic without history.
   */
  history(topic: string, query: HistoryQuery): Promise<HistoryRead | undefined>;
  /**
   * Graceful shutdown: stops accepting connections (closes the server's listener, which under
   * `node:cluster` takes this worker out of the primary's rotation), then closes the open ones with 1012 (service
   * restart) in batches spread over `windowMs` (default 5 000) so clients do not all reconnect at
   * once, waits until every channel has ended (their `terminate` ran), and detaches. Stop the
   * presence (`presence.close()`) after it, so other nodes drop this node's members at once.
   */
  drain(windowMs?: number): Promise<void>;
  /** Stops accepting connections, closes the open ones (code 1001) and detaches from the server. */
  close(): Promise<void>;
}

/** Default limits. */
export const defaults = {
  path: "/socket",
  maxFrameSize: 1024 * 1024,
  maxChannels: 100,
  idleTimeoutMs: 60_000,
  shutdownTimeoutMs: 5_000,
  joinRate: { perSecond: 20, burst: 100 },
  messageRate: { perSecond: 100, burst: 300 },
  heartbeatRate: { perSecond: 5, burst: 20 },
  rateLimitDisconnectAfter: 100,
  rateLimitWindowMs: 10_000,
  maxTopicLength: 1024,
  maxConnectionsPerIp: 0,
  maxBufferedBytes: 8 * 1024 * 1024,
  slowConsumerCloseTimeoutMs: 1_000,
  drainWindowMs: 5_000,
  revocationTtlMs: 86_400_000,
} as const;

let endpointCount = 0;

/** The PubSub topic revocations travel on to every node. */
const REVOCATIONS_TOPIC = "cinder:revocations";

/** Mounts a socket endpoint on an HTTP(S) server. Call it after creating the server with its request handler. */
export function attach<A extends Assigns>(server: HttpServer | HttpsServer, options: EndpointOptions<A>): Endpoint {
  const path = (options.path ?? defaults.path).replace(/\/+$/, "");
  const logger = options.logger ?? createLogger();
  const pubsub = options.pubsub ?? new PubSub({
    onSubscriberError: (error, topic) => logger.error({ err: error, topic }, "subscriber failed on a broadcast"),
  });
  const ownsPubSub = options.pubsub === undefined;
  const id = `${pubsub.nodeName}${path}#${++endpointCount}`;
  void pubsub.start();
  const socket = options.socket as unknown as SocketDefinition;
  for (const [pattern, channel] of Object.entries(socket.channels)) {
    if (channel.history !== undefined) {
      pubsub.enableHistory(pattern, { ...defaultStreamLimits, ...(channel.history === true ? {} : channel.history) });
    }
  }
  const context: SocketContext = {
    router: new ChannelRouter(socket.channels),
    pubsub,
    logger,
    maxChannels: options.maxChannels ?? defaults.maxChannels,
    shutdownTimeoutMs: options.shutdownTimeoutMs ?? defaults.shutdownTimeoutMs,
    limits: {
      joinRate: options.joinRate === false ? null : options.joinRate ?? defaults.joinRate,
      messageRate: options.messageRate === false ? null : options.messageRate ?? defaults.messageRate,
      heartbeatRate: options.heartbeatRate === false ? null : options.heartbeatRate ?? defaults.heartbeatRate,
      refusalWindow: {
        refusals: options.rateLimitDisconnectAfter ?? defaults.rateLimitDisconnectAfter,
        windowMs: options.rateLimitWindowMs ?? defaults.rateLimitWindowMs,
      },
      maxTopicLength: options.maxTopicLength ?? defaults.maxTopicLength,
    },
    live: new DrainingMap(),
    endpointId: id,
    socket,
    revocations: new Revocations(options.revocationTtlMs ?? defaults.revocationTtlMs),
  };
  // Revocations reach every node on one topic; each node records them and closes its own connections.
  const revocationSubscriber = {
    deliver(message: { payload: unknown }): void {
      const { socket_id: socketId, at } = (message.payload ?? {}) as { socket_id?: unknown; at?: unknown };
      if (typeof socketId !== "string" || typeof at !== "number") return;
      context.revocations.add(socketId, at);
      pubsub.localBroadcast(socketId, REVOKE_EVENT, {});
    },
  };
  pubsub.subscribe(REVOCATIONS_TOPIC, revocationSubscriber);
  const limit = new ConnectionLimit(options.maxConnections ?? defaultMaxConnections(), logger);
  /** WebSocket handshakes in flight: they hold a descriptor before they count in `websocket.size`. */
  let handshaking = 0;
  const open = (): number => websocket.size + handshaking + (longpoll?.size ?? 0);
  const perIp = new ConnectionsPerIp(options.maxConnectionsPerIp ?? defaults.maxConnectionsPerIp);
  const checkOrigin = compileOriginCheck(options.checkOrigin ?? true);
  const websocket = new WebSocketTransport({
    socket,
    context,
    maxFrameSize: options.maxFrameSize ?? defaults.maxFrameSize,
    idleTimeoutMs: options.idleTimeoutMs ?? defaults.idleTimeoutMs,
    checkOrigin,
    perIp,
    slowConsumer: {
      maxBufferedBytes: options.maxBufferedBytes ?? defaults.maxBufferedBytes,
      closeTimeoutMs: options.slowConsumerCloseTimeoutMs ?? defaults.slowConsumerCloseTimeoutMs,
    },
    directWrite: options.directWrite ?? true,
    logger,
  });
  const websocketPath = `${path}/websocket`;
  const longpollPath = `${path}/longpoll`;
  const longpollOptions = options.longpoll === true ? {} : options.longpoll === false ? undefined : options.longpoll;
  const longpoll = longpollOptions === undefined ? undefined : new LongPollTransport({
    ...longPollDefaults,
    ...longpollOptions,
    secret: longpollOptions.secret ?? randomBytes(32).toString("base64url"),
    socket,
    context,
    nodeName: pubsub.nodeName,
    checkOrigin,
    perIp,
    logger,
  });
  let closing = false;

  const onUpgrade = (request: IncomingMessage, rawSocket: Duplex, head: Buffer): void => {
    const uri = requestUrl(request);
    if (closing && uri !== null && uri.pathname === websocketPath) {
      // Draining: the listener is closed, but a handshake may still arrive on a connection
      // accepted just before; tell the client to come back (to another node) in a second.
      rawSocket.end("HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
      return;
    }
    if (uri === null || uri.pathname !== websocketPath) {
      // Another upgrade listener may own this path; if there is none, refuse it ourselves.
      if (server.listenerCount("upgrade") <= 1) {
        rawSocket.end("HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
      }
      return;
    }
    if (limit.full(open())) {
      limit.refuseUpgrade(rawSocket, open());
      return;
    }
    handshaking++;
    websocket.handleUpgrade(request, rawSocket, head, uri).catch((error: unknown) => {
      logger.error({ err: error }, "websocket handshake failed");
      rawSocket.destroy();
    }).finally(() => handshaking--);
  };

  // Requests for our paths are answered here; everything else goes to the server's own handlers.
  const previous = server.listeners("request") as Array<(req: IncomingMessage, res: ServerResponse) => void>;
  server.removeAllListeners("request");
  const onRequest = (request: IncomingMessage, response: ServerResponse): void => {
    const uri = requestUrl(request);
    if (uri !== null && uri.pathname === websocketPath) {
      response.writeHead(400, { "content-type": "text/plain; charset=utf-8" });
      response.end("this path expects a WebSocket upgrade");
      return;
    }
    if (uri !== null && uri.pathname === longpollPath && longpoll !== undefined) {
      if (closing) response.writeHead(503, { "retry-after": "1", connection: "close" }).end();
      else if (request.method === "GET" && !uri.searchParams.has("token") && limit.full(open())) {
        // A GET without a session token opens a session: refused like a WebSocket over the limit.
        response.writeHead(503, { "retry-after": "1", connection: "close", "content-type": "text/plain; charset=utf-8" })
          .end(limit.refusalBody(open()));
      } else longpoll.handle(request, response, uri);
      return;
    }
    if (previous.length === 0) {
      response.writeHead(404).end();
      return;
    }
    for (const listener of previous) listener.call(server, request, response);
  };
  server.on("request", onRequest);
  server.on("upgrade", onUpgrade);

  const finish = async (): Promise<void> => {
    await websocket.drain(2_000);
    // Every channel's terminate and exit callbacks (presence leaves) run before we return.
    await within(context.live.whenEmpty(), context.shutdownTimeoutMs + 1_000);
    server.off("upgrade", onUpgrade);
    server.off("request", onRequest);
    for (const listener of previous) server.on("request", listener);
    pubsub.unsubscribe(REVOCATIONS_TOPIC, revocationSubscriber);
    if (ownsPubSub) await pubsub.close();
  };

  return {
    id,
    pubsub,
    logger,
    path,
    get connectionCount() {
      return websocket.size + (longpoll?.size ?? 0);
    },
    maxConnections: limit.max,
    broadcast(topic, event, payload) {
      pubsub.broadcast(topic, event, payload);
    },
    localBroadcast(topic, event, payload) {
      pubsub.localBroadcast(topic, event, payload);
    },
    disconnect(socketId) {
      pubsub.broadcast(socketId, "disconnect", {});
    },
    revoke(socketId) {
      pubsub.broadcast(REVOCATIONS_TOPIC, "revoke", { socket_id: socketId, at: Date.now() });
    },
    patternOf(topic) {
      return context.router.patternOf(topic);
    },
    history(topic, query) {
      return pubsub.readHistory(topic, query);
    },
    async drain(windowMs = defaults.drainWindowMs) {
      if (closing) return;
      closing = true;
      // Stop accepting first: under node:cluster this also takes the worker out of the
      // primary's rotation, so reconnecting clients reach the other workers.
      if (server.listening) server.close();
      logger.info({ connections: websocket.size + (longpoll?.size ?? 0), windowMs }, "draining connections");
      longpoll?.closeAll(1012, "server restarting");
      await websocket.closeGradually(1012, "server restarting", windowMs);
      await finish();
    },
    async close() {
      if (closing) return;
      closing = true;
      websocket.closeAll(1001, "server shutting down");
      longpoll?.closeAll(1001, "server shutting down");
      await finish();
    },
  };
}
