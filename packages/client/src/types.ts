/**
 * Shared value types of the client: wire messages, params, the logger signature, and the
 * minimal shape of a transport (a WebSocket, `ws`'s WebSocket, or `LongPoll`).
 */

/** A decoded message, as the V2 serializer produces it and `onMessage` callbacks receive it. */
export type { Message } from "@cinder/protocol";

/** Connect params or channel join params: a plain object. */
export type Params = Record<string, unknown>;

/** A value, or a function computing it again on every use (connect / rejoin). */
export type ValueOrFn<T> = T | (() => T);

/** `logger(kind, msg, data)`: kind is "transport", "push", "receive", "channel"... */
export type Logger = (kind: string, msg: string, data?: unknown) => void;

/** What a transport hands to `onmessage`. */
export interface TransportMessageEvent {
  readonly data: unknown;
}

/** What a transport hands to `onclose` (a `CloseEvent` in browsers). */
export interface TransportCloseEvent {
  readonly code?: number;
  readonly reason?: string;
  readonly wasClean?: boolean;
}

/**
 * Declares a callback property whose parameter is checked bivariantly, so that a browser
 * `WebSocket` (whose handlers take `MessageEvent`, `CloseEvent`...) and `ws`'s WebSocket both fit.
 */
type Handler<E> = { bivarianceHack(event: E): unknown }["bivarianceHack"];

/** A connection the socket drives: the subset of the WebSocket API the client uses. */
export interface TransportLike {
  /** 0 connecting, 1 open, 2 closing, 3 closed. */
  readonly readyState: number;
  /** Bytes queued but not yet sent (WebSocket); absent for long-poll. */
  readonly bufferedAmount?: number;
  /** Set to "arraybuffer" so binary frames arrive as `ArrayBuffer`. */
  binaryType?: string;
  /** True for transports without heartbeats (long-poll). */
  readonly skipHeartbeat?: boolean;
  onopen: Handler<unknown> | null;
  onerror: Handler<unknown> | null;
  onmessage: Handler<TransportMessageEvent> | null;
  onclose: Handler<TransportCloseEvent> | null;
  send(data: string | ArrayBuffer): void;
  close(code?: number, reason?: string): void;
}

/**
 * A transport constructor: the browser `WebSocket`, `WebSocket` from the `ws` package (Node 20),
 * or `LongPoll`. Called as `new transport(url, protocols)`.
 */
export type TransportConstructor = new (url: string, protocols?: string | string[]) => TransportLike;

/** The part of the Web Storage API the long-poll fallback uses to remember itself. */
export interface SessionStore {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}
