/** Protocol constants: channel states and events, ready states, defaults. */

/** The states of a channel, as `channel.state` reports them. */
export type ChannelState = "closed" | "errored" | "joined" | "joining" | "leaving";

/** The events the protocol itself uses on a channel topic. */
export const CHANNEL_EVENTS = {
  close: "phx_close",
  error: "phx_error",
  join: "phx_join",
  reply: "phx_reply",
  leave: "phx_leave",
} as const;

/** A control event name (`phx_close`, `phx_error`, `phx_join`, `phx_reply`, `phx_leave`). */
export type ControlEvent = (typeof CHANNEL_EVENTS)[keyof typeof CHANNEL_EVENTS];

/** WebSocket ready states (the long-poll transport uses the same numbers). */
export const READY_STATE = { connecting: 0, open: 1, closing: 2, closed: 3 } as const;

/** The topic of heartbeats. */
export const PHOENIX_TOPIC = "phoenix";

/** Default protocol version: V2 JSON (and V2 binary frames for `ArrayBuffer` payloads). */
export const DEFAULT_VSN = "2.0.0";

/** Default timeout of joins, pushes and leaves, in ms. */
export const DEFAULT_TIMEOUT = 10_000;

/** Default heartbeat interval (and heartbeat timeout), in ms. */
export const DEFAULT_HEARTBEAT_INTERVAL = 30_000;

/** Default timeout of one long-poll request, in ms (twice the server's 10 s poll window). */
export const DEFAULT_LONGPOLLER_TIMEOUT = 20_000;

/** The subprotocol prefix carrying `authToken` on the WebSocket handshake. */
export const AUTH_TOKEN_PREFIX = "base64url.bearer.phx.";

/** The most lines one long-poll POST carries. */
export const MAX_LONGPOLL_BATCH = 100;

/** Transport path suffixes. */
export const TRANSPORT_PATHS = { websocket: "websocket", longpoll: "longpoll" } as const;
