/**
 * How the primary takes the connections its listener accepts, for the handoff: as the native TCP
 * handles themselves when node exposes them (a listener's `_handle.onconnection`, which is also
 * how node:cluster's round-robin takes them), so no `net.Socket` is built in the primary only to
 * be taken apart again for IPC — that costs the primary ~65 µs and the worker ~50 µs of CPU per
 * connection; else (that internal gone, or `CINDER_HANDOFF_SOCKETS=1`) as `net.Socket`s from the
 * listener's `connection` event. Either travels to a worker as the handle of an IPC message, and
 * `asSocket` makes a `net.Socket` of either, on the side that reads or writes it; `release`
 * closes the primary's copy of a native handle once the worker has its own.
 */
import { Socket, type Server } from "node:net";
import { getSystemErrorName } from "node:util";

/** A native TCP handle, as node's listener hands it over (opaque here but for closing it). */
export interface NativeHandle {
  close(): void;
}

/** An accepted connection: a native handle or a `net.Socket`. */
export type Accepted = NativeHandle | Socket;

/** The environment variable that makes the primary take `net.Socket`s (the public API only; slower). */
export const SOCKETS_ENV = "CINDER_HANDOFF_SOCKETS";

interface NativeListener {
  onconnection?: unknown;
}

/**
 * Calls `onConnection` with each connection `server` (listening, `pauseOnConnect`) accepts; a
 * failed accept (EMFILE…) calls `onError` with its reason when taken natively, else it is the
 * listener's `error` event. Returns which way it takes them.
 */
export function acceptConnections(server: Server, onConnection: (accepted: Accepted) => void, onError: (reason: string) => void,
  env: NodeJS.ProcessEnv = process.env): "native" | "sockets" {
  const native = (server as unknown as { _handle?: NativeListener | null })._handle;
  if (env[SOCKETS_ENV] !== "1" && native !== null && native !== undefined && typeof native.onconnection === "function") {
    native.onconnection = (status: number, handle?: NativeHandle): void => {
      if (status < 0 || handle === undefined) onError(getSystemErrorName(status));
      else onConnection(handle);
    };
    return "native";
  }
  server.on("connection", (socket: Socket) => onConnection(socket));
  return "sockets";
}

/**
 * `accepted` as a `net.Socket` (a native handle is wrapped, and starts reading), half-open as
 * `allowHalfOpen` says (node:http's servers keep a socket open after the client's FIN to answer).
 */
export function asSocket(accepted: Accepted, allowHalfOpen = false): Socket {
  if (accepted instanceof Socket) {
    accepted.allowHalfOpen = allowHalfOpen;
    return accepted;
  }
  return new Socket({ handle: accepted, allowHalfOpen, readable: true, writable: true } as never);
}

/**
 * Lets go of the primary's copy of `accepted` once a worker has received it: a native handle is
 * closed here (nothing else would: node only closes the `net.Socket`s it sent, on the worker's
 * acknowledgement); the worker's copy lives on.
 */
export function release(accepted: Accepted): void {
  if (!(accepted instanceof Socket)) accepted.close();
}

/** Closes `accepted` without a word (the client sees the connection close). */
export function discard(accepted: Accepted): void {
  if (accepted instanceof Socket) accepted.destroy();
  else accepted.close();
}
