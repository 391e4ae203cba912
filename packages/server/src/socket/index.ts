/** The socket layer: authorizing connections and running each one's channels. */
export * from "./definition.js";
export { authorize, type Accepted } from "./connect.js";
export { SocketConnection, CloseCode, type SocketContext, type TransportSink } from "./connection.js";
