/** The options of `new Socket(endPoint, options)` and their defaults. */
import type { SerializerLike } from "./serializer.js";
import type { Logger, Params, SessionStore, TransportConstructor, ValueOrFn } from "./types.js";

/** Socket options (the names and meanings of phoenix.js 1.8's). */
export interface SocketOptions {
  /**
   * The transport: a WebSocket constructor (the browser's; in Node 20 `WebSocket` from `ws`) or
   * `LongPoll`. Default: the global `WebSocket`, else `LongPoll`.
   */
  transport?: TransportConstructor;
  /** Connect params sent in the query string; a function is called again on every connect. */
  params?: ValueOrFn<Params>;
  /**
   * A token for the server's `connect` (`info.authToken`): sent as the WebSocket subprotocol
   * `base64url.bearer.phx.<base64>` (next to "phoenix"), or the long-poll header `X-Phoenix-AuthToken`.
   */
  authToken?: ValueOrFn<string>;
  /** Default timeout of joins, pushes and leaves, in ms. Default 10 000. */
  timeout?: number;
  /** Heartbeat interval, and how long a heartbeat reply may take, in ms. Default 30 000. */
  heartbeatIntervalMs?: number;
  /**
   * Delay before reconnect attempt `tries` (1, 2, ...), in ms. Default `defaultReconnectAfterMs`:
   * 300 ms doubling to 10 s, each ±50 % at random (150–450 ms first, 5–15 s at most).
   */
  reconnectAfterMs?: (tries: number) => number;
  /** Delay before channel rejoin attempt `tries`, in ms. Default 1 s, 2 s, 5 s, then 10 s, each plus 0–25 % at random. */
  rejoinAfterMs?: (tries: number) => number;
  /**
   * Fall back to `LongPoll` when the WebSocket fails before opening, or does not answer a ping
   * within this many ms after opening. In browsers the fallback is remembered in sessionStorage.
   */
  longPollFallbackMs?: number;
  /** Timeout of one long-poll request, in ms. Default 20 000. */
  longpollerTimeout?: number;
  /** Receives debug logs: `(kind, msg, data)`. */
  logger?: Logger;
  /** Log to the console when no `logger` is given. */
  debug?: boolean;
  /** Protocol version sent as `vsn`. Default "2.0.0". */
  vsn?: string;
  /** WebSocket `binaryType`. Default "arraybuffer". */
  binaryType?: string;
  /** Custom encoder (ignored with `LongPoll`). */
  encode?: SerializerLike["encode"];
  /** Custom decoder (ignored with `LongPoll`). */
  decode?: SerializerLike["decode"];
  /** Where the long-poll fallback is remembered. Default `globalThis.sessionStorage` when present. */
  sessionStorage?: SessionStore;
  /**
   * Returns a new token ahead of each expiry the server states (a Cinder extension,
   * docs/protocol.md §11); it is sent over the open socket, so nothing reconnects or rejoins.
   * Make `params` / `authToken` return the newest token too, for reconnects.
   */
  refreshToken?: () => string | Promise<string>;
  /** How long before the expiry `refreshToken` is called, in ms (at most half the time left). Default 30 000. */
  refreshAheadMs?: number;
  /** Called when a token refresh fails (a refused token ends the connection with 4003). */
  onRefreshError?: (error: unknown) => void;
}

/** Wraps a value in a function unless it is one. */
export function closure<T>(value: ValueOrFn<T>): () => T {
  return typeof value === "function" ? (value as () => T) : () => value;
}

/** The global `WebSocket`, if the runtime has one (browsers, Node ≥ 22). */
export function globalWebSocket(): TransportConstructor | undefined {
  const ws = (globalThis as { WebSocket?: unknown }).WebSocket;
  return typeof ws === "function" ? (ws as TransportConstructor) : undefined;
}

/** The global `sessionStorage`, if usable. */
export function globalSessionStorage(): SessionStore | undefined {
  try {
    const store = (globalThis as { sessionStorage?: SessionStore }).sessionStorage;
    return store ?? undefined;
  } catch {
    return undefined; // access can throw (sandboxed iframes, disabled storage)
  }
}
