/**
 * How a socket is declared (`defineSocket`): the `connect` hook that authorizes a connection
 * and sets its assigns, the `id` hook that names it (a `"disconnect"` broadcast on that id
 * closes every transport of it), the optional `refresh` hook that checks a token pushed over
 * the open socket, and the channel routes. `refuse(status, reason)` turns a connection away
 * with a chosen HTTP status; `accept(assigns, { expiresAt })` accepts it until a time
 * (docs/protocol.md §11, token expiry); `renew(expiresAt)` is what `refresh` returns.
 */
import type { IncomingMessage } from "node:http";
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
  /**
   * The HTTP request that opened the connection (the upgrade request, or the long-poll GET that
   * created the session): its headers and cookies, for a framework's session or JWT middleware.
   */
  readonly request: IncomingMessage;
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

/** When a token stops being valid, and when it was issued; epoch milliseconds or a `Date`. */
export interface TokenTimes {
  /** When the connection's token expires: past it without a refresh, the socket is closed (4001). */
  readonly expiresAt?: number | Date;
  /** When the token was issued: a token issued before `endpoint.revoke(id)` is refused (403 / 4003). */
  readonly issuedAt?: number | Date;
}

/** An accepted connection with its token's times (`accept`). */
export interface Acceptance<A extends Assigns = Assigns> {
  readonly kind: "accept";
  readonly assigns: A;
  /** Epoch ms, or null for a connection that does not expire. */
  readonly expiresAt: number | null;
  /** Epoch ms, or null when unknown (then revocations do not refuse the token). */
  readonly issuedAt: number | null;
}

/** A refreshed token's times (`renew`), returned by `refresh`. */
export interface Renewal {
  readonly kind: "renew";
  /** Epoch ms, or null: the connection no longer expires. */
  readonly expiresAt: number | null;
  /** Epoch ms, or null when unknown. */
  readonly issuedAt: number | null;
}

function epochMs(time: number | Date | undefined, name: string): number | null {
  if (time === undefined) return null;
  const ms = time instanceof Date ? time.getTime() : time;
  if (!Number.isFinite(ms)) throw new TypeError(`${name} must be a finite epoch time in ms or a valid Date`);
  return ms;
}

/**
 * Accepts a connection with `assigns` and its token's times:
 * `accept({ userId }, { expiresAt: claims.exp * 1000, issuedAt: claims.iat * 1000 })`.
 */
export function accept<A extends Assigns>(assigns: A, times: TokenTimes = {}): Acceptance<A> {
  return { kind: "accept", assigns, expiresAt: epochMs(times.expiresAt, "expiresAt"), issuedAt: epochMs(times.issuedAt, "issuedAt") };
}

/** Accepts a refreshed token (from `refresh`): the connection now expires at `expiresAt` (null: never). */
export function renew(expiresAt: number | Date | null, times: Pick<TokenTimes, "issuedAt"> = {}): Renewal {
  return { kind: "renew", expiresAt: expiresAt === null ? null : epochMs(expiresAt, "expiresAt"), issuedAt: epochMs(times.issuedAt, "issuedAt") };
}

/** True when `value` is an `Acceptance`. */
export function isAcceptance(value: unknown): value is Acceptance {
  return typeof value === "object" && value !== null && (value as Acceptance).kind === "accept"
    && typeof (value as Acceptance).assigns === "object" && "expiresAt" in value;
}

/** True when `value` is a `Renewal`. */
export function isRenewal(value: unknown): value is Renewal {
  return typeof value === "object" && value !== null && (value as Renewal).kind === "renew" && "expiresAt" in value;
}

/**
 * What `connect` returns: assigns (accept), `accept(assigns, times)` (accept with an expiry),
 * `true`/nothing (accept, no assigns), `false` or a refusal.
 */
export type ConnectResult<A extends Assigns> = A | Acceptance<A> | Refusal | boolean | void | undefined;

/** What `refresh` returns: `renew(expiresAt)`, or a refusal (the socket is then closed with 4003). */
export type RefreshResult = Renewal | Refusal;

/** The open socket as the `refresh` hook sees it. */
export interface RefreshInfo<A extends Assigns = Assigns> {
  /** The assigns `connect` gave (a refresh cannot change them). */
  readonly assigns: A;
  /** The socket id, or null. */
  readonly id: string | null;
  /** The connect params of the connection. */
  readonly params: ConnectParams;
  /** The connect info of the connection. */
  readonly info: ConnectInfo;
}

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
  /**
   * Checks a token pushed over the open socket (the `"access_token"` frame) and gives its expiry.
   * Throwing refuses it. Without this hook Cinder runs `connect` again, with the token as
   * `params.token` and as `info.authToken`, and accepts the token when `connect` accepts it for
   * the same socket id (its expiry is then `connect`'s).
   */
  refresh?(token: string, socket: RefreshInfo<A>): RefreshResult | Promise<RefreshResult>;
  /** Channel routes: topic pattern (`"room:*"` or exact) → channel. */
  readonly channels: Readonly<Record<string, AnyChannelDefinition>>;
}

/** Declares a socket. */
export function defineSocket<A extends Assigns = Assigns>(definition: SocketDefinition<A>): SocketDefinition<A> {
  return definition;
}
