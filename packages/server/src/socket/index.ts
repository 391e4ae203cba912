/** The socket layer: authorizing connections and running each one's channels. */
export * from "./definition.js";
export { authorize, checkRefresh, type Accepted } from "./connect.js";
export { SocketConnection, CloseCode, REVOKE_EVENT, type ConnectionLimits, type SocketContext, type TransportSink } from "./connection.js";
export { TokenBucket, type Rate } from "./limits.js";
export { Revocations } from "./revocations.js";
export { TokenLifetime, MAX_REFRESH_TOKEN_LENGTH } from "./lifetime.js";
