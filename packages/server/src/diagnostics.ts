/**
 * Cinder's events on `node:diagnostics_channel`: a named channel per event (sockets connecting
 * and closing, frames in and out, joins, leaves, handled pushes, broadcasts, errors, limits),
 * with any number of subscribers. Publishing is free when nobody listens: every call site checks
 * `hasSubscribers` before it builds a message. Subscribers run synchronously on the hot path:
 * keep them cheap, and never throw from them (Node reports a throwing subscriber as an
 * uncaught exception).
 *
 * ```ts
 * import { subscribe } from "node:diagnostics_channel";
 * subscribe("cinder:channel:join", (message) => console.log(message));
 * // or, typed:
 * import { subscribeDiagnostics } from "@cinder/server";
 * const stop = subscribeDiagnostics("cinder:channel:join", ({ topic, status }) => console.log(topic, status));
 * ```
 *
 * Socket and channel events carry `endpoint`, the `Endpoint.id` of the endpoint they happened on,
 * so a subscriber can tell endpoints apart; broadcasts carry the `PubSub` that delivered them.
 */
import { channel, subscribe, unsubscribe } from "node:diagnostics_channel";
import type { PubSub } from "./pubsub/index.js";

/** The transports, as named in events. */
export type TransportName = "websocket" | "longpoll";

/** The kinds of error reported on `cinder:error`. */
export type ErrorKind = "decode" | "join_crash" | "channel_crash" | "encode" | "internal";

/** `cinder:socket:connect`: a connection attempt finished, accepted or refused with `status`. */
export interface SocketConnectMessage {
  readonly endpoint: string;
  readonly transport: TransportName;
  readonly accepted: boolean;
  /** The HTTP status of a refusal (absent when accepted). */
  readonly status?: number;
  readonly durationMs: number;
}

/** A transport-level event: `cinder:socket:close`, `message_in`, `message_out`, `slow_consumer`. */
export interface TransportMessage {
  readonly endpoint: string;
  readonly transport: TransportName;
}

/** `cinder:socket:rate_limited`: a join or a message was refused by a rate limit. */
export interface RateLimitedMessage {
  readonly endpoint: string;
  readonly what: "join" | "message" | "heartbeat";
}

/** What happened to a connection's token: refreshed in-band, or the connection closed for it. */
export type TokenOutcome = "refreshed" | "expired" | "refused" | "revoked";

/** `cinder:socket:token`: a token was refreshed, or its connection closed (expired 4001, refused or revoked 4003). */
export interface TokenMessage {
  readonly endpoint: string;
  readonly transport: TransportName;
  readonly outcome: TokenOutcome;
}

/** `cinder:channel:join`: a join answered (`crash` when the join callback threw or returned a bad value). */
export interface ChannelJoinMessage {
  readonly endpoint: string;
  readonly topic: string;
  /** The channel route pattern that matched the topic, e.g. `"room:*"`. */
  readonly pattern: string;
  readonly status: "ok" | "error" | "crash";
  readonly durationMs: number;
}

/** `cinder:channel:leave`: a joined channel ended, for `reason` (a terminate reason). */
export interface ChannelLeaveMessage {
  readonly endpoint: string;
  readonly topic: string;
  readonly pattern: string;
  readonly reason: string;
}

/** `cinder:channel:handle_in`: `handleIn` handled a client push. */
export interface ChannelHandleInMessage {
  readonly endpoint: string;
  readonly topic: string;
  readonly pattern: string;
  readonly event: string;
  /** The reply status, `"noreply"`, `"stop"`, or `"crash"` (threw or returned a bad value). */
  readonly status: string;
  readonly durationMs: number;
}

/** `cinder:pubsub:broadcast`: a broadcast was delivered on this node to `subscribers` local subscribers. */
export interface PubSubBroadcastMessage {
  readonly pubsub: PubSub;
  readonly topic: string;
  readonly event: string;
  readonly subscribers: number;
}

/** `cinder:error`: something went wrong (`topic` when it happened in a channel). */
export interface ErrorMessage {
  readonly endpoint: string;
  readonly kind: ErrorKind;
  readonly topic?: string;
}

/**
 * Every diagnostics channel Cinder publishes on, by channel name, with the message it carries.
 * This is the one table of Cinder's events (the README lists the same).
 */
export interface DiagnosticsMessages {
  /** A connection attempt finished. */
  "cinder:socket:connect": SocketConnectMessage;
  /** An accepted connection closed. */
  "cinder:socket:close": TransportMessage;
  /** A frame arrived on a transport. */
  "cinder:socket:message_in": TransportMessage;
  /** A frame was written to a transport. */
  "cinder:socket:message_out": TransportMessage;
  /** A join or message was refused by a rate limit. */
  "cinder:socket:rate_limited": RateLimitedMessage;
  /** A client that stopped reading was cut off (1013). */
  "cinder:socket:slow_consumer": TransportMessage;
  /** A token was refreshed, or its connection closed for it. */
  "cinder:socket:token": TokenMessage;
  /** A join answered. */
  "cinder:channel:join": ChannelJoinMessage;
  /** A joined channel ended. */
  "cinder:channel:leave": ChannelLeaveMessage;
  /** A client push was handled by `handleIn`. */
  "cinder:channel:handle_in": ChannelHandleInMessage;
  /** A broadcast was delivered to this node's subscribers. */
  "cinder:pubsub:broadcast": PubSubBroadcastMessage;
  /** Something went wrong. */
  "cinder:error": ErrorMessage;
}

/** The name of one of Cinder's diagnostics channels. */
export type DiagnosticsChannelName = keyof DiagnosticsMessages;

/** The names of Cinder's diagnostics channels, by short key. */
export const diagnosticsChannels = {
  connect: "cinder:socket:connect",
  close: "cinder:socket:close",
  messageIn: "cinder:socket:message_in",
  messageOut: "cinder:socket:message_out",
  rateLimited: "cinder:socket:rate_limited",
  slowConsumer: "cinder:socket:slow_consumer",
  token: "cinder:socket:token",
  join: "cinder:channel:join",
  leave: "cinder:channel:leave",
  handleIn: "cinder:channel:handle_in",
  broadcast: "cinder:pubsub:broadcast",
  error: "cinder:error",
} as const satisfies Record<string, DiagnosticsChannelName>;

/** A diagnostics channel that publishes messages of type `M`. */
export interface Publisher<M> {
  /** True when someone listens; check it before building a message. */
  readonly hasSubscribers: boolean;
  /** Sends `message` to every subscriber, synchronously. */
  publish(message: M): void;
}

function publisher<N extends DiagnosticsChannelName>(name: N): Publisher<DiagnosticsMessages[N]> {
  return channel(name);
}

/** The channels Cinder publishes on (held here, so they live as long as the process). */
export const diagnostics = {
  connect: publisher(diagnosticsChannels.connect),
  close: publisher(diagnosticsChannels.close),
  messageIn: publisher(diagnosticsChannels.messageIn),
  messageOut: publisher(diagnosticsChannels.messageOut),
  rateLimited: publisher(diagnosticsChannels.rateLimited),
  slowConsumer: publisher(diagnosticsChannels.slowConsumer),
  token: publisher(diagnosticsChannels.token),
  join: publisher(diagnosticsChannels.join),
  leave: publisher(diagnosticsChannels.leave),
  handleIn: publisher(diagnosticsChannels.handleIn),
  broadcast: publisher(diagnosticsChannels.broadcast),
  error: publisher(diagnosticsChannels.error),
} as const;

/**
 * Subscribes `listener` to one of Cinder's diagnostics channels, typed by the table above;
 * returns the function that unsubscribes it.
 */
export function subscribeDiagnostics<N extends DiagnosticsChannelName>(
  name: N,
  listener: (message: DiagnosticsMessages[N]) => void,
): () => void {
  const onMessage = (message: unknown): void => listener(message as DiagnosticsMessages[N]);
  subscribe(name, onMessage);
  return () => { unsubscribe(name, onMessage); };
}
