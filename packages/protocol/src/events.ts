/** The names the protocol itself uses: control events, the heartbeat, subprotocols (docs/protocol.md §1–§3). */

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

/** The topic heartbeats travel on. */
export const PHOENIX_TOPIC = "phoenix";

/** The event of a heartbeat (on `PHOENIX_TOPIC`). */
export const HEARTBEAT_EVENT = "heartbeat";

/** The events a presence channel pushes: the full state on join, then diffs. */
export const PRESENCE_EVENTS = { state: "presence_state", diff: "presence_diff" } as const;

/**
 * Cinder's user-level presence events, pushed only to channels that opted in (docs/presence.md
 * "Online and offline"): the online keys on opting in, then each key's first join and last
 * leave past the grace. phoenix.js binds no handler to them, so its `Presence` ignores them.
 */
export const ONLINE_EVENTS = { state: "presence_online_state", online: "presence_online", offline: "presence_offline" } as const;

/** The WebSocket subprotocol a Phoenix client offers. */
export const PHOENIX_SUBPROTOCOL = "phoenix";

/** The subprotocol prefix carrying a client's `authToken` (base64url, unpadded) on the WebSocket handshake. */
export const AUTH_TOKEN_PREFIX = "base64url.bearer.phx.";
