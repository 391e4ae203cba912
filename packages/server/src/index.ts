/**
 * `@cinder/server`: Phoenix-compatible channels, PubSub and presence for Node.js.
 *
 * ```ts
 * const endpoint = attach(httpServer, { socket: defineSocket({ channels: { "room:*": Room } }) });
 * ```
 */
export { attach, defaults, type Endpoint, type EndpointOptions } from "./endpoint.js";
export {
  defineChannel, ok, error, reply, noreply, stop,
  type Assigns, type ChannelDefinition, type AnyChannelDefinition, type ChannelSocket, type EventSchemas,
  type EventPayload, type HandleInArgs, type HandleOutArgs, type HandleInResult, type HandleResult, type JoinResult, type NoEvents,
  type ReplyRef, type ReplyResult, type StopResult, type TerminateReason, type PayloadIssue, BadReturnError, type ResultCallback,
} from "./channel/index.js";
export {
  defineSocket, refuse, accept, renew, type ConnectInfo, type ConnectParams, type ConnectResult, type Refusal, type SocketDefinition,
  type SocketInfo, type Acceptance, type Renewal, type RefreshResult, type RefreshInfo, type TokenTimes,
} from "./socket/index.js";
export {
  PubSub, LocalAdapter, type BroadcastMessage, type PubSubAdapter, type PubSubOptions, type RemoteBroadcast, type Subscriber,
  type HistoryQuery,
} from "./pubsub/index.js";
export {
  MemoryHistory, SinceReads, defaultStreamLimits, formatPosition, parsePosition, newEpoch,
  type HistoryRead, type HistoryStore, type MemoryHistoryOptions, type Publication, type StreamLimits, type StreamPosition,
} from "./history/index.js";
export { readStreamRequest, type StreamReply, type StreamRequest } from "./channel/recovery.js";
export {
  V1Serializer, V2Serializer, negotiateSerializer, Frame, EncodedJson, DecodeError, EncodeError, type Message, type Reply, type Serializer,
} from "./serializer/index.js";
export type { OriginCheck } from "./transport/origin.js";
export { createLogger, silentLogger, type Logger, type LogLevel } from "./logger.js";
export { Token, TokenError, type TokenErrorReason, type SignOptions, type VerifyOptions, type KeyDigest } from "./token/index.js";
export {
  Presence, PresenceError, createPresence, type PresenceDiff, type PresenceEntry, type PresenceMap, type PresenceOptions,
  type PresenceOwner, type PresenceTarget, type TrackerTiming, type Meta, type OnlineSubscriber, type OnlineHooks, OnlineState, type OnlineEvent,
  type BigRoomOptions, type BigRoomPolicy, type BigRoomResult, defaultBigRoom, resolveBigRoom,
} from "./presence/index.js";
export type { LongPollOptions } from "./transport/longpoll.js";
export type { Rate } from "./socket/index.js";
export {
  diagnosticsChannels, subscribeDiagnostics,
  type DiagnosticsMessages, type DiagnosticsChannelName, type ErrorKind, type TransportName, type SocketConnectMessage,
  type TransportMessage, type RateLimitedMessage, type ChannelJoinMessage, type ChannelLeaveMessage, type ChannelHandleInMessage,
  type PubSubBroadcastMessage, type ErrorMessage, type TokenMessage, type TokenOutcome,
} from "./diagnostics.js";
