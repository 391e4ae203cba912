/**
 * The IPC messages of one-machine mode's connection handoff, between the primary (which accepts
 * every connection on the port) and its workers (which serve them). Each is a small JSON object
 * tagged `cinder`, so node:cluster's own messages and an app's are left alone.
 *
 * - primary → worker: `connection`, with the accepted socket as the message's handle.
 * - worker → primary: `ready` (it takes connections), `load` (what it holds and has received, as
 *   that changes, at most every `LOAD_REPORT_MS`),
 *   `draining` (it takes no more).
 */

/** The environment variable that tells a worker the primary accepts on the port (its value, the port). */
export const PRIMARY_PORT_ENV = "CINDER_PRIMARY_PORT";

/** How often at most a worker reports its load while it changes. */
export const LOAD_REPORT_MS = 50;

/** A connection for the worker: the socket travels as the message's handle. */
export interface ConnectionMessage {
  readonly cinder: "connection";
}

/** The worker takes connections. */
export interface ReadyMessage {
  readonly cinder: "ready";
}

/** The worker takes no more connections (it drains). */
export interface DrainingMessage {
  readonly cinder: "draining";
}

/** What a worker holds, for the primary's choice. */
export interface LoadMessage {
  readonly cinder: "load";
  /** Handed-over sockets still open in the worker. */
  readonly held: number;
  /** Handed-over sockets received since the worker started (the primary adds those sent since). */
  readonly received: number;
  /** The most sockets it takes; 0 for no limit. */
  readonly max: number;
  /** True when its endpoint would refuse a new connection (at `maxConnections`, or draining). */
  readonly full: boolean;
}

/** Any message of the handoff. */
export type HandoffMessage = ConnectionMessage | ReadyMessage | DrainingMessage | LoadMessage;

const KINDS = new Set(["connection", "ready", "draining", "load"]);

/** True when `message` is one of the handoff's (and not node:cluster's or the app's). */
export function isHandoff(message: unknown): message is HandoffMessage {
  if (typeof message !== "object" || message === null) return false;
  const kind = (message as { cinder?: unknown }).cinder;
  return typeof kind === "string" && KINDS.has(kind);
}

/** The port a worker's primary accepts on (from `CINDER_PRIMARY_PORT`), or undefined when the worker listens itself. */
export function primaryPort(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const raw = env[PRIMARY_PORT_ENV];
  if (raw === undefined || !/^\d+$/.test(raw)) return undefined;
  const port = Number(raw);
  return port > 0 && port < 65_536 ? port : undefined;
}
