/** Client constants: channel states, ready states, defaults; the protocol's own names come from `@cinder/protocol`. */

/** The states of a channel, as `channel.state` reports them. */
export type ChannelState = "closed" | "errored" | "joined" | "joining" | "leaving";

export { AUTH_TOKEN_PREFIX, CHANNEL_EVENTS, HEARTBEAT_EVENT, PHOENIX_TOPIC, TRANSPORT_PATHS, type ControlEvent } from "@cinder/protocol";

/** WebSocket ready states (the long-poll transport uses the same numbers). */
export const READY_STATE = { connecting: 0, open: 1, closing: 2, closed: 3 } as const;

/** Default protocol version: V2 JSON (and V2 binary frames for `ArrayBuffer` payloads). */
export const DEFAULT_VSN = "2.0.0";

/** Default timeout of joins, pushes and leaves, in ms. */
export const DEFAULT_TIMEOUT = 10_000;

/** Default heartbeat interval (and heartbeat timeout), in ms. */
export const DEFAULT_HEARTBEAT_INTERVAL = 30_000;

/** Default timeout of one long-poll request, in ms (twice the server's 10 s poll window). */
export const DEFAULT_LONGPOLLER_TIMEOUT = 20_000;


