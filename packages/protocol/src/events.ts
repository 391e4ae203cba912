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

/**
 * Token expiry, a Cinder extension (docs/protocol.md §11), on `PHOENIX_TOPIC`: the server pushes
 * `expiry` (`{expires_at, expires_in}`) when a connection's token has an expiry; a client sends
 * `refresh` (`{token}`, with a ref) to replace the token in-band and gets a `phx_reply`: ok with
 * the new `{expires_at, expires_in}`, or error with `{reason}` (and the socket is closed).
 */
export const ACCESS_TOKEN_EVENTS = { refresh: "access_token", expiry: "access_token_expiry" } as const;

/** The close codes of token expiry (docs/protocol.md §11): 4001 expired, 4003 refused or revoked. */
export const TOKEN_CLOSE_CODES = { expired: 4001, refused: 4003 } as const;
