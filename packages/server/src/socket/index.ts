/** The socket layer: authorizing connections and running each one's channels. */
export * from "./definition.js";
export { authorize, type Accepted } from "./connect.js";
export { SocketConnection, CloseCode, type ConnectionLimits, type SocketContext, type TransportSink } from "./connection.js";
export { TokenBucket, type Rate } from "./limits.js";
