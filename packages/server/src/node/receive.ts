/**
 * The worker's side of one-machine mode's connection handoff: the primary accepts on the port and
 * sends each socket over IPC; the worker feeds it to its HTTP server (a `connection` event, as if
 * its own listener had accepted it), counts the sockets it holds and has received, and reports
 * them to the primary as they change, at most every `LOAD_REPORT_MS` (no message of its own per
 * connection: node's acknowledgement of each handle paces the primary), plus a check every second
 * for its endpoints' room changing on its own (a long-poll session expiring). The server never binds a
 * port itself; `listening` is emitted on it once, which starts node:http's request and header
 * timeouts as a bound server would.
 */
import type { Server } from "node:net";
import { asSocket, type Accepted } from "./accept.js";
import { defaultMaxConnections, roomOf } from "../connection-limit.js";
import { isHandoff, LOAD_REPORT_MS, type HandoffMessage, type LoadMessage } from "./handoff.js";

/** How often the worker checks its endpoints' room when no socket came or went. */
const ROOM_CHECK_MS = 1_000;

/** A worker's receiving end of the handoff. */
export interface Receiver {
  /** Handed-over sockets still open. */
  readonly held: number;
  /** Tells the primary this worker takes connections. */
  ready(): void;
  /** Tells the primary this worker takes no more (call it first when draining). */
  draining(): void;
  /** Stops receiving and reporting. */
  close(): void;
}

/**
 * The most sockets this worker takes: the endpoints' smallest `maxConnections`, but never more
 * than the fd limit allows (`defaultMaxConnections`), since past it the worker could not even
 * take the descriptor; 0 when neither limits it.
 */
export function workerCapacity(endpointMax: number | undefined, fdMax: number): number {
  if (endpointMax === undefined || endpointMax === 0) return fdMax;
  return fdMax === 0 ? endpointMax : Math.min(endpointMax, fdMax);
}

/** Starts taking the sockets the primary hands this worker into `server`. */
export function receiveConnections(server: Server): Receiver {
  // Half-open and no delay as the server's own listener would make its sockets (node:http: both
  // on); node keeps these options on the server, undocumented.
  const own = server as Server & { allowHalfOpen?: unknown; noDelay?: unknown };
  const fdMax = defaultMaxConnections();
  let held = 0;
  let received = 0;
  let closed = false;
  let last: LoadMessage | undefined;
  let timer: NodeJS.Timeout | undefined;

  const send = (message: HandoffMessage): void => {
    if (!closed && process.connected && process.send !== undefined) process.send(message);
  };
  const load = (): LoadMessage => {
    const room = roomOf(server);
    return { cinder: "load", held, received, max: workerCapacity(room?.max, fdMax), full: room?.full ?? false };
  };
  const report = (): void => {
    last = load();
    send(last);
  };
  /** The batched report of closes: sent when what it would say differs from the last one sent. */
  const flush = (): void => {
    timer = undefined;
    const now = load();
    if (last === undefined || now.held !== last.held || now.received !== last.received || now.full !== last.full || now.max !== last.max) {
      last = now;
      send(now);
    }
  };
  // The timer is left to run when a report goes out meanwhile: arming and clearing one per
  // connection cost more than the rare report that then says nothing new (it is not sent).
  const changed = (): void => {
    timer ??= setTimeout(flush, LOAD_REPORT_MS);
  };
  const checkRoom = setInterval(() => {
    const now = load();
    if (last !== undefined && (now.full !== last.full || now.max !== last.max)) changed();
  }, ROOM_CHECK_MS).unref();

  const onClose = (): void => {
    held--;
    changed();
  };
  const onMessage = (message: unknown, handle: unknown): void => {
    if (!isHandoff(message) || message.cinder !== "connection") return;
    received++;
    // The client may have gone while the socket travelled: then there is no handle.
    const present = typeof handle === "object" && handle !== null;
    if (present) held++;
    changed();
    if (!present) return;
    const socket = asSocket(handle as Accepted, own.allowHalfOpen === true);
    if (own.noDelay !== false) socket.setNoDelay(true);
    socket.on("close", onClose);
    server.emit("connection", socket);
  };
  process.on("message", onMessage);

  return {
    get held() {
      return held;
    },
    ready() {
      if (!server.listening) server.emit("listening");
      send({ cinder: "ready" });
      report();
    },
    draining() {
      send({ cinder: "draining" });
    },
    close() {
      closed = true;
      process.off("message", onMessage);
      clearInterval(checkRoom);
      if (timer !== undefined) clearTimeout(timer);
    },
  };
}
