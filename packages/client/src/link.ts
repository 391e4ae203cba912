/**
 * `Link`: the socket's bookkeeping for one transport instance (one connection attempt). Events of
 * a transport that is no longer the socket's current one are ignored, which makes reconnects,
 * fallbacks and overlapping teardowns safe.
 */
import { READY_STATE } from "./constants.js";
import type { TransportCloseEvent, TransportLike, TransportMessageEvent } from "./types.js";

/**
 * What a link reports to its socket (only while it is the current link).
 * @internal
 */
export interface LinkEvents {
  open(link: Link): void;
  error(link: Link, error: unknown): void;
  message(link: Link, event: TransportMessageEvent): void;
  close(link: Link, event: TransportCloseEvent): void;
}

/**
 * One transport instance of a socket and what the socket tracks about it.
 * @internal
 */
export class Link {
  /** Set when the socket closed this link itself (as opposed to the server or the network). */
  closing = false;
  /** Set when the socket no longer wants this link (disconnect, fallback); connect() then starts a new one. */
  ended = false;
  /** Set once the channels were errored after the link stopped being open. */
  channelsErrored = false;
  /** The join_ref of each channel whose join was sent over this link. */
  readonly joins = new WeakMap<object, string | null>();
  /** Ping callbacks by ref: their replies can only come over this link. */
  readonly pings = new Map<string, () => void>();
  #closeHandled = false;

  constructor(readonly transport: TransportLike, isCurrent: (link: Link) => boolean, events: LinkEvents) {
    transport.onopen = () => { if (isCurrent(this)) events.open(this); };
    transport.onerror = (error: unknown) => { if (isCurrent(this)) events.error(this, error); };
    transport.onmessage = (event: TransportMessageEvent) => { if (isCurrent(this)) events.message(this, event); };
    transport.onclose = (event: TransportCloseEvent) => {
      // long-poll may report its close more than once
      if (isCurrent(this) && !this.#closeHandled) {
        this.#closeHandled = true;
        events.close(this, event ?? {});
      }
    };
  }

  /** True while the transport is open. */
  isOpen(): boolean {
    return this.transport.readyState === READY_STATE.open;
  }

  /** True while the transport is connecting. */
  isConnecting(): boolean {
    return this.transport.readyState === READY_STATE.connecting;
  }

  /** True when this link carried the channel's join with this join_ref. */
  carried(channel: object, joinRef: string | null): boolean {
    return this.joins.has(channel) && this.joins.get(channel) === joinRef;
  }

  /** Closes the transport; errors it emits from now on (closing while connecting) are ignored. */
  close(code?: number, reason?: string): void {
    this.closing = true;
    this.transport.onerror = () => undefined;
    try {
      if (code !== undefined) this.transport.close(code, reason ?? "");
      else this.transport.close();
    } catch {
      // e.g. an invalid close code for this transport: the connection is abandoned anyway
    }
  }
}
