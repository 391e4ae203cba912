/**
 * How a socket is declared (`defineSocket`): the `connect` hook that authorizes a connection
 * and sets its assigns, the `id` hook that names it (a `"disconnect"` broadcast on that id
 * closes every transport of it), and the channel routes. `refuse(status, reason)` turns a
 * connection away with a chosen HTTP status.
 */
import type { AnyChannelDefinition, Assigns } from "../channel/index.js";

import type { ConnectParams } from "@cinder/protocol";

/** Connect params: the query string parameters, nested by `a[b]=c` (the protocol package's model). */
export type { ConnectParams };

/** What the transport knows about the connecting client. */
export interface ConnectInfo {
  /** The peer's address and port. */
  readonly peer: { readonly address: string; readonly port: number };
  /** The request URI. */
  readonly uri: URL;
  /** The `Origin` header, if any. */
  readonly origin: string | undefined;
  /** The `User-Agent` header, if any. */
  readonly userAgent: string | undefined;
  /** Every `x-*` header. */
  readonly xHeaders: Readonly<Record<string, string>>;
  /** The token from phoenix.js's `authToken` option (WebSocket subprotocol or long-poll header). */
  readonly authToken: string | undefined;
  /** The name of the transport ("websocket" or "longpoll"). */
  readonly transport: string;
}

/** A refusal with an HTTP status and an optional reason (sent as the body). */
export interface Refusal {
  readonly kind: "refuse";
  readonly status: number;
  readonly reason: string | undefined;
}

/** Refuses a connection: `refuse()` is a plain 403; `refuse(429, "rate limited")` sets both. */
export function refuse(status = 403, reason?: string): Refusal {
  return { kind: "refuse", status, reason };
}

/** True when `value` is a `Refusal`. */
export function isRefusal(value: unknown): value is Refusal {
  return typeof value === "object" && value !== null && (value as Refusal).kind === "refuse";
}

/** What `connect` returns: assigns (accept), `true`/nothing (accept, no assigns), `false` or a refusal. */
export type ConnectResult<A extends Assigns> = A | Refusal | boolean | void | undefined;

/** The socket as the `id` hook sees it. */
export interface SocketInfo<A extends Assigns = Assigns> {
  readonly assigns: A;
}

/** A socket declaration. */
export interface SocketDefinition<A extends Assigns = Assigns> {
  /** Authorizes a connection. Throwing refuses it with 403 (and logs the error). */
  connect?(params: ConnectParams, info: ConnectInfo): ConnectResult<A> | Promise<ConnectResult<A>>;
  /** Names the socket (a PubSub topic), or null for an anonymous socket. */
  id?(socket: SocketInfo<A>): string | null | undefined;
  /** Channel routes: topic pattern (`"room:*"` or exact) → channel. */
  readonly channels: Readonly<Record<string, AnyChannelDefinition>>;
}

/** Declares a socket. */
export function defineSocket<A extends Assigns = Assigns>(definition: SocketDefinition<A>): SocketDefinition<A> {
  return definition;
}
