/**
 * `Socket`: the connection to a Phoenix-protocol server, with phoenix.js 1.8's API. It owns the
 * options, the state callbacks, the channels and the long-poll fallback policy; the connection
 * state machine (transports, heartbeats, jittered reconnects, send buffer, dispatch) is its
 * `Connector`.
 */
import { defaultReconnectAfterMs, defaultRejoinAfterMs } from "./backoff.js";
import { Channel } from "./channel.js";
import { Connector, type SocketChannel } from "./connector.js";
import {
  DEFAULT_HEARTBEAT_INTERVAL, DEFAULT_LONGPOLLER_TIMEOUT, DEFAULT_TIMEOUT, DEFAULT_VSN, READY_STATE,
  TRANSPORT_PATHS,
} from "./constants.js";
import type { AnyContract, ChannelContract, ChannelParamsArgs } from "./contract.js";
import { PHOENIX_SUBPROTOCOL, authTokenProtocol } from "@cinder/protocol";
import { LongPoll } from "./longpoll.js";
import { closure, globalSessionStorage, globalWebSocket, type SocketOptions } from "./options.js";
import { watchPage } from "./page.js";
import { Serializer } from "./serializer.js";
import { keepTokenFresh, type TokenExpiry } from "./token.js";
import type { Logger, Message, Params, SessionStore, TransportCloseEvent, TransportConstructor, TransportLike } from "./types.js";
import { absoluteSocketUrl, appendParams } from "./url.js";

export type { SocketChannel } from "./connector.js";

/** The connection state `connectionState()` reports. */
export type ConnectionState = "connecting" | "open" | "closing" | "closed";

/** `onError` callbacks get the error, the transport constructor in use, and how many connections ever opened. */
export type SocketErrorCallback = (error: unknown, transport: TransportConstructor, establishedConnections: number) => void;

interface Callbacks {
  open: Array<[string, () => void]>;
  close: Array<[string, (event: TransportCloseEvent) => void]>;
  error: Array<[string, SocketErrorCallback]>;
  message: Array<[string, (message: Message) => void]>;
}

/** The name of a transport constructor ("LongPoll" survives minification). */
function transportName(transport: TransportConstructor): string {
  return transport === LongPoll ? "LongPoll" : transport.name || "WebSocket";
}

/** A connection to a server; create channels with `socket.channel(topic, params)`. */
export class Socket {
  /** The endpoint with its transport path, e.g. `ws://host/socket/websocket`. */
  readonly endPoint: string;
  /** Default timeout of joins, pushes and leaves, in ms. */
  timeout: number;
  /** Heartbeat interval (and heartbeat timeout) in ms. */
  heartbeatIntervalMs: number;
  /** The transport constructor in use (changes to `LongPoll` on fallback). */
  transport: TransportConstructor;
  /** Protocol version sent as `vsn`. */
  vsn: string;
  /** See `SocketOptions.longPollFallbackMs`. */
  longPollFallbackMs: number | undefined;
  /** Timeout of one long-poll request, in ms. */
  longpollerTimeout: number;
  /** WebSocket `binaryType`. */
  binaryType: string;
  /** The logger, or null. */
  logger: Logger | null;
  /** Reconnect delay per try. */
  reconnectAfterMs: (tries: number) => number;
  /** Channel rejoin delay per try. */
  rejoinAfterMs: (tries: number) => number;
  /** The connect params (evaluated on every connect). */
  params: () => Params;
  /** The auth token (evaluated on every connect), if any. */
  authToken: (() => string) | undefined;
  /** True once a WebSocket answered a ping within `longPollFallbackMs`. */
  primaryPassedHealthCheck = false;
  readonly #connector: Connector;
  readonly #sessionStore: SessionStore | undefined;
  readonly #callbacks: Callbacks = { open: [], close: [], error: [], message: [] };
  #channels: Channel[] = [];
  #ref = 0;
  #fallbackTimer: ReturnType<typeof setTimeout> | undefined;
  #fallbackRefs: string[] = [];
  #awaitingPageShow: number | null = null;
  #tokenExpiry: TokenExpiry | null = null;

  /** `endPoint` is the mount URL, e.g. `"ws://localhost:4000/socket"` or `"/socket"` in a page. */
  constructor(endPoint: string, opts: SocketOptions = {}) {
    this.endPoint = `${endPoint}/${TRANSPORT_PATHS.websocket}`;
    this.timeout = opts.timeout ?? DEFAULT_TIMEOUT;
    this.heartbeatIntervalMs = opts.heartbeatIntervalMs ?? DEFAULT_HEARTBEAT_INTERVAL;
    this.transport = opts.transport ?? globalWebSocket() ?? LongPoll;
    this.vsn = opts.vsn ?? DEFAULT_VSN;
    this.longPollFallbackMs = opts.longPollFallbackMs;
    this.longpollerTimeout = opts.longpollerTimeout ?? DEFAULT_LONGPOLLER_TIMEOUT;
    this.binaryType = opts.binaryType ?? "arraybuffer";
    this.logger = opts.logger ?? (opts.debug ? (kind, msg, data) => console.log(`${kind}: ${msg}`, data) : null);
    this.reconnectAfterMs = opts.reconnectAfterMs ?? defaultReconnectAfterMs;
    this.rejoinAfterMs = opts.rejoinAfterMs ?? defaultRejoinAfterMs;
    this.params = closure(opts.params ?? {});
    this.authToken = opts.authToken === undefined ? undefined : closure(opts.authToken);
    this.#sessionStore = opts.sessionStorage ?? globalSessionStorage();
    const custom = this.transport !== LongPoll;
    this.#connector = new Connector({
      channels: () => this.#channels,
      transport: () => this.transport,
      url: () => this.endPointURL(),
      protocols: () => this.#protocols(),
      binaryType: () => this.binaryType,
      longpollerTimeout: () => this.longpollerTimeout,
      heartbeatIntervalMs: () => this.heartbeatIntervalMs,
      reconnectAfterMs: (tries) => this.reconnectAfterMs(tries),
      makeRef: () => this.makeRef(),
      log: (kind, msg, data) => this.log(kind, msg, data),
      hasLogger: () => this.hasLogger(),
      encode: (custom && opts.encode) || Serializer.encode.bind(Serializer),
      decode: (custom && opts.decode) || Serializer.decode.bind(Serializer),
      reconnect: () => this.connect(),
      opened: () => {
        if (this.logger) this.log("transport", `${transportName(this.transport)} connected`);
        for (const [, callback] of this.#callbacks.open) callback();
      },
      errored: (error) => {
        const transport = this.transport;
        const established = this.establishedConnections;
        for (const [, callback] of this.#callbacks.error) callback(error, transport, established);
      },
      closed: (event) => { for (const [, callback] of this.#callbacks.close) callback(event); },
      received: (message) => { for (const [, callback] of this.#callbacks.message) callback(message); },
    });
    watchPage({
      onHide: () => {
        if (this.#connector.hasLiveLink()) {
          this.disconnect();
          this.#awaitingPageShow = this.#connector.clock;
        }
      },
      onShow: () => {
        if (this.#awaitingPageShow === this.#connector.clock) {
          this.#awaitingPageShow = null;
          this.connect();
        }
      },
      onVisible: () => this.#connector.reconnectNow(),
    });
    if (opts.refreshToken !== undefined) {
      const onError = opts.onRefreshError;
      keepTokenFresh(this, {
        refreshToken: opts.refreshToken,
        ...(opts.refreshAheadMs === undefined ? {} : { refreshAheadMs: opts.refreshAheadMs }),
        onError: (error) => {
          if (this.logger) this.log("transport", "token refresh failed", error);
          onError?.(error);
        },
        onExpiry: (expiry) => { this.#tokenExpiry = expiry; },
      });
    }
  }

  /** The token expiry the server stated last (with the `refreshToken` option), or null. */
  get tokenExpiry(): TokenExpiry | null {
    return this.#tokenExpiry;
  }

  /** The current transport instance (a WebSocket or a LongPoll), or null. */
  get conn(): TransportLike | null {
    return this.#connector.conn;
  }

  /** The channels of this socket. */
  get channels(): readonly Channel[] {
    return this.#channels;
  }

  /** How many connections opened so far. */
  get establishedConnections(): number {
    return this.#connector.establishedConnections;
  }

  /** The URL the transport connects to: endpoint, params, then `vsn`. */
  endPointURL(): string {
    return absoluteSocketUrl(appendParams(appendParams(this.endPoint, this.params()), { vsn: this.vsn }));
  }

  /** Connects (no-op while a connection exists or is being re-established). */
  connect(): void {
    if (this.#connector.hasLiveLink()) return;
    if (this.longPollFallbackMs && this.transport !== LongPoll) {
      this.#connectWithFallback(LongPoll, this.longPollFallbackMs);
    } else {
      this.#connector.connect();
    }
  }

  /** Disconnects for good (no reconnect); `callback` runs once the transport closed. */
  disconnect(callback?: () => void, code?: number, reason?: string): void {
    this.#cancelFallback();
    this.#connector.disconnect(callback, code, reason);
  }

  /** "connecting", "open", "closing" or "closed". */
  connectionState(): ConnectionState {
    switch (this.conn?.readyState) {
      case READY_STATE.connecting: return "connecting";
      case READY_STATE.open: return "open";
      case READY_STATE.closing: return "closing";
      default: return "closed";
    }
  }

  /** True while the transport is open. */
  isConnected(): boolean {
    return this.#connector.isConnected();
  }

  /** Calls `callback` whenever a connection opens. Returns a ref for `off`. */
  onOpen(callback: () => void): string {
    return this.#register("open", callback);
  }

  /** Calls `callback` whenever a connection closes. Returns a ref for `off`. */
  onClose(callback: (event: TransportCloseEvent) => void): string {
    return this.#register("close", callback);
  }

  /** Calls `callback` on transport errors (a refused handshake, a dropped long-poll...). Returns a ref for `off`. */
  onError(callback: SocketErrorCallback): string {
    return this.#register("error", callback);
  }

  /** Calls `callback` with every decoded incoming message. Returns a ref for `off`. */
  onMessage(callback: (message: Message) => void): string {
    return this.#register("message", callback);
  }

  /** Removes the callbacks registered under these refs. */
  off(refs: readonly string[]): void {
    const keep = <T extends [string, unknown]>(list: T[]): T[] => list.filter(([ref]) => !refs.includes(ref));
    this.#callbacks.open = keep(this.#callbacks.open);
    this.#callbacks.close = keep(this.#callbacks.close);
    this.#callbacks.error = keep(this.#callbacks.error);
    this.#callbacks.message = keep(this.#callbacks.message);
  }

  /**
   * A channel on `topic` (not joined yet: call `join()`). `params` may be a function, called
   * again on every (re)join. Give a server channel definition's type to type it:
   * `socket.channel<typeof Room>("room:1", {...})`.
   */
  channel<C extends ChannelContract = AnyContract>(topic: string, ...params: ChannelParamsArgs<C>): Channel<C> {
    const channel = new Channel<C>(topic, params[0], this);
    this.#channels = [...this.#channels, channel as unknown as Channel];
    return channel;
  }

  /** Measures a heartbeat round trip: `callback(rttMs)`. Returns false when not connected. */
  ping(callback: (rtt: number) => void): boolean {
    return this.#connector.ping(callback);
  }

  /** Sends a message now, or buffers it until the connection opens (dropped if its join is outdated by then). */
  push(message: Message, channel?: SocketChannel): void {
    if (this.logger) this.log("push", `${message.topic} ${message.event} (${String(message.join_ref)}, ${String(message.ref)})`, message.payload);
    this.#connector.push(message, channel);
  }

  /** A new ref (a decimal string; shared by messages and callback registrations). */
  makeRef(): string {
    this.#ref = this.#ref >= Number.MAX_SAFE_INTEGER ? 1 : this.#ref + 1;
    return String(this.#ref);
  }

  /** Removes a channel and its socket callbacks (done when a channel closes). */
  remove(channel: SocketChannel): void {
    this.off(channel.stateChangeRefs);
    this.#channels = this.#channels.filter((c) => c !== channel);
  }

  /** Leaves another channel of this socket joined (or joining) on `topic`, before a join. */
  leaveOpenTopic(topic: string): void {
    const duplicate = this.#channels.find((c) => c.topic === topic && (c.isJoined() || c.isJoining()));
    if (duplicate) {
      this.log("transport", `leaving duplicate topic "${topic}"`);
      duplicate.leave();
    }
  }

  /** Logs through the `logger` option, if any. */
  log(kind: string, msg: string, data?: unknown): void {
    this.logger?.(kind, msg, data);
  }

  /** True when a logger is set. */
  hasLogger(): boolean {
    return this.logger !== null;
  }

  /**
   * Switches to another transport: the current connection is dropped (its channels will
   * rejoin) and the next `connect` uses `transport`. Returns the new connect clock.
   */
  replaceTransport(transport: TransportConstructor): number {
    if (this.#fallbackTimer !== undefined) clearTimeout(this.#fallbackTimer);
    this.transport = transport;
    return this.#connector.replaceTransport();
  }

  #register<K extends keyof Callbacks>(kind: K, callback: Callbacks[K][number][1]): string {
    const ref = this.makeRef();
    (this.#callbacks[kind] as Array<[string, unknown]>).push([ref, callback]);
    return ref;
  }

  #protocols(): string[] | undefined {
    if (!this.authToken) return undefined;
    return [PHOENIX_SUBPROTOCOL, authTokenProtocol(this.authToken())];
  }

  #connectWithFallback(fallbackTransport: TransportConstructor, thresholdMs: number): void {
    this.#cancelFallback();
    const name = transportName(fallbackTransport);
    const storeKey = `phx:fallback:${name}`;
    let established = false;
    let onPrimary = true;
    let clock = 0;
    const isCurrent = (): boolean => clock === this.#connector.clock && !this.#connector.closeWasClean;
    const fallback = (reason?: unknown): void => {
      this.log("transport", `falling back to ${name}...`, reason);
      this.off([errorRef]);
      onPrimary = false;
      if (this.replaceTransport(fallbackTransport) !== this.#connector.clock) return;
      this.#connector.connect();
    };
    let errorRef = "";
    if (this.#getSession(storeKey)) {
      fallback("memorized");
      return;
    }
    this.#fallbackTimer = setTimeout(fallback, thresholdMs);
    errorRef = this.onError((reason) => {
      if (!isCurrent()) return;
      if (onPrimary && !established) {
        clearTimeout(this.#fallbackTimer);
        fallback(reason);
      }
    });
    const openRef = this.onOpen(() => {
      if (!onPrimary) {
        if (this.transport !== fallbackTransport || this.#connector.closeWasClean) return;
        if (!this.primaryPassedHealthCheck) this.#storeSession(storeKey, "true");
        this.log("transport", `established ${name} fallback`);
        return;
      }
      if (!isCurrent()) return;
      established = true;
      clearTimeout(this.#fallbackTimer);
      this.#fallbackTimer = setTimeout(fallback, thresholdMs);
      this.ping((rtt) => {
        this.log("transport", "connected to primary after", rtt);
        this.primaryPassedHealthCheck = true;
        clearTimeout(this.#fallbackTimer);
      });
    });
    this.#fallbackRefs = [errorRef, openRef];
    this.#connector.connect();
    clock = this.#connector.clock;
  }

  #cancelFallback(): void {
    if (this.#fallbackTimer !== undefined) clearTimeout(this.#fallbackTimer);
    this.#fallbackTimer = undefined;
    this.off(this.#fallbackRefs);
    this.#fallbackRefs = [];
  }

  #getSession(key: string): string | null {
    try { return this.#sessionStore?.getItem(key) ?? null; } catch { return null; }
  }

  #storeSession(key: string, value: string): void {
    try { this.#sessionStore?.setItem(key, value); } catch { /* storage full or disabled */ }
  }
}
