/**
 * `Connector`: the connection state machine behind a `Socket`. It opens transports (one `Link`
 * each), buffers frames until a connection is open, runs heartbeats and detects their timeout,
 * schedules reconnects with the backoff, tears connections down, errors the channels a lost
 * connection carried, and decodes and dispatches incoming frames. The `Socket` owns the public
 * API, the callbacks, the channels and the fallback policy, and talks to it through a host.
 */
import { RetryTimer } from "./backoff.js";
import { CHANNEL_EVENTS, HEARTBEAT_EVENT, PHOENIX_TOPIC, READY_STATE } from "./constants.js";
import { Heartbeat } from "./heartbeat.js";
import { Link } from "./link.js";
import { LongPoll } from "./longpoll.js";
import { pageHidden } from "./page.js";
import type { SerializerLike } from "./serializer.js";
import type { Message, TransportCloseEvent, TransportConstructor, TransportLike, TransportMessageEvent } from "./types.js";

/** What the connector needs from a channel (any `Channel<C>` fits). */
export interface SocketChannel {
  readonly topic: string;
  readonly stateChangeRefs: readonly string[];
  joinRef(): string | null;
  isMember(topic: string, event: string, payload: unknown, joinRef: string | null): boolean;
  trigger(event: string, payload: unknown, ref?: string | null, joinRef?: string | null): void;
  isClosed(): boolean;
  isErrored(): boolean;
  isJoined(): boolean;
  isJoining(): boolean;
  isLeaving(): boolean;
  leave(): unknown;
}

/**
 * What the connector needs from its socket.
 * @internal
 */
export interface ConnectorHost {
  channels(): readonly SocketChannel[];
  transport(): TransportConstructor;
  url(): string;
  protocols(): string[] | undefined;
  binaryType(): string;
  longpollerTimeout(): number;
  heartbeatIntervalMs(): number;
  reconnectAfterMs(tries: number): number;
  makeRef(): string;
  log(kind: string, msg: string, data?: unknown): void;
  hasLogger(): boolean;
  readonly encode: SerializerLike["encode"];
  readonly decode: SerializerLike["decode"];
  /** Connects again (through the socket, so that its fallback policy applies). */
  reconnect(): void;
  opened(): void;
  errored(error: unknown): void;
  closed(event: TransportCloseEvent): void;
  received(message: Message): void;
}

/**
 * The connection state machine of one socket (see the top of this file).
 * @internal
 */
export class Connector {
  /** How many connections opened so far. */
  establishedConnections = 0;
  readonly #host: ConnectorHost;
  readonly #reconnectTimer: RetryTimer;
  readonly #heartbeat: Heartbeat;
  #link: Link | null = null;
  #closeWasClean = true;
  #clock = 1;
  #sendBuffer: Array<() => void> = [];

  constructor(host: ConnectorHost) {
    this.#host = host;
    this.#reconnectTimer = new RetryTimer(() => {
      if (pageHidden()) {
        host.log("transport", "not reconnecting as the page is hidden");
        this.#teardown();
        return;
      }
      this.#teardownAndReconnect(() => host.reconnect());
    }, (tries) => host.reconnectAfterMs(tries));
    this.#heartbeat = new Heartbeat(() => host.heartbeatIntervalMs(), () => this.#sendHeartbeat(), () => this.#heartbeatTimeout());
  }

  /** The current transport instance, or null. */
  get conn(): TransportLike | null {
    return this.#link?.transport ?? null;
  }

  /** Changes on every connect, disconnect and transport replacement. */
  get clock(): number {
    return this.#clock;
  }

  /** True after a disconnect (or before any connect): no reconnect is wanted. */
  get closeWasClean(): boolean {
    return this.#closeWasClean;
  }

  /** True while a connection exists that the socket still wants (open, connecting or reconnecting). */
  hasLiveLink(): boolean {
    return this.#link !== null && !this.#link.ended;
  }

  /** True while the current transport is connecting. */
  isConnecting(): boolean {
    return this.#link?.isConnecting() ?? false;
  }

  /** True while the current transport is open. */
  isConnected(): boolean {
    return this.conn?.readyState === READY_STATE.open;
  }

  /** Opens a new transport (a previous open one is replaced and its channels rejoin). */
  connect(): void {
    const host = this.#host;
    const previous = this.#link;
    this.#clock += 1;
    this.#closeWasClean = false;
    this.#reconnectTimer.cancel(); // the tries are kept until a connection opens
    const Transport = host.transport();
    const transport = new Transport(host.url(), host.protocols());
    transport.binaryType = host.binaryType();
    if (transport instanceof LongPoll) transport.timeout = host.longpollerTimeout();
    this.#link = new Link(transport, (link) => link === this.#link, {
      open: () => this.#onOpen(),
      error: (link, error) => this.#onError(link, error),
      message: (link, event) => this.#onMessage(link, event),
      close: (link, event) => this.#onClose(link, event),
    });
    if (previous && previous.isOpen()) this.#errorChannels("connection_closed", previous);
  }

  /** Closes for good (no reconnect); `callback` runs once the transport closed. */
  disconnect(callback?: () => void, code?: number, reason?: string): void {
    this.#clock += 1;
    this.#closeWasClean = true;
    this.#reconnectTimer.reset();
    if (this.#link) this.#link.ended = true;
    this.#teardown(callback, code, reason);
  }

  /** Drops the current connection (its channels will rejoin) before switching transports; returns the new clock. */
  replaceTransport(): number {
    const clock = ++this.#clock;
    this.#closeWasClean = true;
    this.#reconnectTimer.reset();
    const link = this.#link;
    if (link) {
      const wasOpen = link.isOpen();
      this.#link = null;
      link.ended = true;
      link.close();
      this.#heartbeat.stop();
      if (wasOpen) this.#errorChannels("connection_closed", link);
    }
    return clock;
  }

  /** Reconnects at once if the connection was lost (a hidden page became visible again). */
  reconnectNow(): void {
    if (this.isConnecting()) return;
    if (!this.isConnected() && !this.#closeWasClean) {
      this.#reconnectTimer.reset();
      this.#teardownAndReconnect(() => this.#host.reconnect());
    }
  }

  /** Sends a message now, or buffers it until a connection opens (dropped if its join is outdated by then). */
  push(message: Message, channel?: SocketChannel): void {
    if (this.isConnected()) {
      this.#send(message, channel);
    } else {
      this.#sendBuffer.push(() => {
        if (!isOutdated(message, channel)) this.#send(message, channel);
      });
    }
  }

  /** Sends a heartbeat and calls `callback(rtt)` on its reply; false when not connected. */
  ping(callback: (rtt: number) => void): boolean {
    const link = this.#link;
    if (!this.isConnected() || link === null) return false;
    const ref = this.#host.makeRef();
    const start = Date.now();
    link.pings.set(ref, () => callback(Date.now() - start));
    this.push({ topic: PHOENIX_TOPIC, event: HEARTBEAT_EVENT, payload: {}, ref, join_ref: null });
    return true;
  }

  #onOpen(): void {
    this.#closeWasClean = false;
    this.establishedConnections += 1;
    if (this.isConnected() && this.#sendBuffer.length > 0) {
      const buffered = this.#sendBuffer;
      this.#sendBuffer = [];
      for (const send of buffered) send();
    }
    this.#reconnectTimer.reset();
    if (!this.conn?.skipHeartbeat) this.#heartbeat.schedule();
    this.#host.opened();
  }

  #onError(link: Link, error: unknown): void {
    this.#host.log("transport", "error", error);
    this.#host.errored(error);
    this.#errorChannels("connection_error", link);
  }

  #onClose(link: Link, event: TransportCloseEvent): void {
    this.#host.log("transport", "close", event);
    this.#heartbeat.stop();
    this.#errorChannels("connection_closed", link);
    if (this.#stillUses(link) && !link.closing && !this.#closeWasClean) this.#reconnectTimer.schedule();
    this.#host.closed(event);
  }

  #onMessage(link: Link, event: TransportMessageEvent): void {
    const wasOpen = link.isOpen();
    try {
      this.#host.decode(event.data, (message) => {
        if (link !== this.#link || (wasOpen && !link.isOpen())) return;
        this.#dispatch(link, message);
      });
    } catch (error) {
      this.#host.log("receive", "dropping a frame that could not be decoded", error);
    }
  }

  #dispatch(link: Link, message: Message): void {
    const { topic, event, payload, ref, join_ref: joinRef } = message;
    this.#heartbeat.received(ref);
    if (this.#host.hasLogger()) {
      const status = typeof payload === "object" && payload !== null && "status" in payload ? String(payload.status) : "";
      this.#host.log("receive", `${status} ${topic} ${event} ${ref ? `(${ref})` : ""}`, payload);
    }
    for (const channel of this.#host.channels()) {
      if (channel.isMember(topic, event, payload, joinRef)) channel.trigger(event, payload, ref, joinRef);
    }
    this.#host.received(message);
    const ping = ref === null ? undefined : link.pings.get(ref);
    if (ref !== null && ping) {
      link.pings.delete(ref);
      ping();
    }
  }

  /**
   * Errors the channels joined over `link` once it stopped being open. After the first time,
   * or when `link` was replaced, only the channels whose current join it carried are errored.
   */
  #errorChannels(reason: string, link: Link | null = this.#link): void {
    let erroredBefore = false;
    if (link && !link.isOpen()) {
      erroredBefore = link.channelsErrored;
      link.channelsErrored = true;
    }
    const joins = this.#host.channels().map((channel) => [channel, channel.joinRef()] as const);
    for (const [channel, joinRef] of joins) {
      if (channel.joinRef() !== joinRef) continue; // an earlier callback rejoined it
      if (link && (erroredBefore || link !== this.#link) && !link.carried(channel, joinRef)) continue;
      if (!(channel.isErrored() || channel.isLeaving() || channel.isClosed())) {
        channel.trigger(CHANNEL_EVENTS.error, { source: "transport", reason });
      }
    }
  }

  #send(message: Message, channel?: SocketChannel): void {
    const link = this.#link;
    if (link === null) return;
    if (channel && message.event === CHANNEL_EVENTS.join) link.joins.set(channel, message.join_ref);
    this.#host.encode(message, (encoded) => {
      if (link !== this.#link || !link.isOpen()) return;
      // a leave must still reach the server after its channel was removed locally
      if (message.event !== CHANNEL_EVENTS.leave && isOutdated(message, channel)) return;
      link.transport.send(encoded);
    });
  }

  #sendHeartbeat(): string | null {
    if (!this.isConnected()) return null;
    const ref = this.#host.makeRef();
    this.push({ topic: PHOENIX_TOPIC, event: HEARTBEAT_EVENT, payload: {}, ref, join_ref: null });
    return ref;
  }

  #heartbeatTimeout(): void {
    const link = this.#link;
    this.#host.log("transport", "heartbeat timeout. Attempting to re-establish connection");
    this.#closeWasClean = false;
    // the connection is presumed dead: close it now rather than waiting for its buffer to drain
    link?.close(1000, "heartbeat timeout");
    if (!this.#stillUses(link)) return;
    this.#errorChannels("heartbeat_timeout", link);
    if (!this.#stillUses(link)) return;
    this.#teardownAndReconnect(() => this.#reconnectTimer.schedule());
  }

  #stillUses(link: Link | null): boolean {
    return this.#link === link && !(link?.ended ?? false);
  }

  #teardownAndReconnect(reconnect: () => void): void {
    const link = this.#link;
    const clock = this.#clock;
    this.#teardown(() => {
      if (clock !== this.#clock || (link?.ended ?? false)) return;
      reconnect();
    });
  }

  /** Closes the current link (after its send buffer drained a little) and waits for it to close. */
  #teardown(callback?: () => void, code?: number, reason?: string): void {
    const link = this.#link;
    if (!link) {
      callback?.();
      return;
    }
    this.#heartbeat.stop();
    waitFor(() => !link.transport.bufferedAmount || !link.isOpen(), () => {
      if (!link.closing) {
        const wasOpened = !link.isConnecting();
        link.close(code, reason);
        if (wasOpened) this.#errorChannels("connection_closed", link);
      }
      waitFor(() => link.transport.readyState === READY_STATE.closed, () => {
        if (this.#link === link) this.#link = null;
        callback?.();
      });
    });
  }
}

/** True when a buffered message no longer concerns its channel (closed, rejoined, or a join that was superseded). */
function isOutdated(message: Message, channel?: SocketChannel): boolean {
  if (!channel) return false;
  if (channel.isClosed() || message.join_ref !== channel.joinRef()) return true;
  return message.event === CHANNEL_EVENTS.join && !channel.isJoining();
}

/** Calls `done` once `ready()` holds, checking at 0, 150, 450, 900 and 1500 ms (then gives up waiting). */
function waitFor(ready: () => boolean, done: () => void, tries = 1): void {
  if (tries === 5 || ready()) {
    done();
    return;
  }
  setTimeout(() => waitFor(ready, done, tries + 1), 150 * tries);
}
