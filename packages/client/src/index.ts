/**
 * `@cinder/client`: a Phoenix Channels client for browsers and Node.js with phoenix.js 1.8's
 * API (`Socket`, `Channel`, `Push`, `Presence`, `LongPoll`), plus promises (`channel.call`,
 * `channel.joined`), jittered reconnect backoff, and channels typed from a server channel
 * definition: `socket.channel<typeof Room>("room:1")`.
 *
 * ```ts
 * import { Socket, Presence } from "@cinder/client";
 * const socket = new Socket("/socket", { params: { token } });
 * socket.connect();
 * const channel = socket.channel("room:lobby");
 * await channel.joined();
 * const reply = await channel.call("new_msg", { body: "hi" });
 * ```
 */
export { Socket, type ConnectionState, type SocketChannel, type SocketErrorCallback } from "./socket.js";
export { Channel, type BindingCallback, type ChannelErrorReason } from "./channel.js";
export { StreamFollower, parsePosition, type StreamGap, type StreamOptions, type StreamPosition, type StreamVerdict } from "./stream.js";
export { Push, type Reply } from "./push.js";
export {
  Presence, type PresenceDiff, type PresenceEntry, type PresenceJoinCallback, type PresenceLeaveCallback,
  type PresenceCount, type PresenceMeta, type PresenceMetaFields, type PresenceOnlineCallback, type PresenceOnlineChange, type PresenceOnlineState,
  type PresenceOptions, type PresenceState,
} from "./presence.js";
export { LongPoll, longPollEndpoint } from "./longpoll.js";
export {
  keepTokenFresh, refreshAccessToken, TokenRefreshError, DEFAULT_REFRESH_AHEAD_MS,
  type KeepTokenFreshOptions, type RefreshableSocket, type TokenExpiry, type TokenMessage,
} from "./token.js";
export { Serializer, DecodeError, decodeBinary, decodeText, encodeBinaryPush, type SerializerLike } from "./serializer.js";
export { PushError, PushTimeout, ChannelClosedError } from "./errors.js";
export {
  defaultReconnectAfterMs, defaultRejoinAfterMs, exponentialBackoff, steppedBackoff, type ExponentialBackoffOptions,
} from "./backoff.js";
export type { SocketOptions } from "./options.js";
export type {
  AnyContract, ChannelContract, ChannelParamsArgs, EventName, IncomingEvent, IncomingPayload, JoinParams, MetaOf,
  PresenceEvent, PushArgs, PushPayload, ReplyPayload, SchemaMap,
} from "./contract.js";
export {
  CHANNEL_EVENTS, DEFAULT_HEARTBEAT_INTERVAL, DEFAULT_TIMEOUT, DEFAULT_VSN, type ChannelState, type ControlEvent,
} from "./constants.js";
export type {
  Logger, Message, Params, SessionStore, TransportCloseEvent, TransportConstructor, TransportLike, TransportMessageEvent,
  ValueOrFn,
} from "./types.js";
export { serializeParams, appendParams } from "./url.js";

/** What a long-poll request answers, before it is checked. */
export type { PollResponse } from "./longpoll.js";
