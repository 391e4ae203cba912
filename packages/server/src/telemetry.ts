/**
 * Telemetry hooks, like Phoenix's telemetry events: optional callbacks an endpoint calls as
 * things happen — connections, joins, handled messages, broadcasts, errors and limits hit.
 * Metrics (`createMetrics`) and tracing are built on them. Hooks run synchronously on the hot
 * path: keep them cheap, and never throw from them.
 */

/** The kinds of error an endpoint reports. */
export type ErrorKind = "decode" | "join_crash" | "channel_crash" | "encode" | "internal";

/** Telemetry callbacks; every one is optional. */
export interface Telemetry {
  /** A connection attempt finished: accepted, or refused with `status`. */
  connect?(event: { transport: string; accepted: boolean; status?: number; durationMs: number }): void;
  /** An accepted connection closed. */
  disconnect?(event: { transport: string }): void;
  /** A frame arrived on a transport. */
  messageIn?(event: { transport: string }): void;
  /** A frame was written to a transport. */
  messageOut?(event: { transport: string }): void;
  /** A join answered (`crash` when the join callback threw). */
  join?(event: { topic: string; pattern: string; status: "ok" | "error" | "crash"; durationMs: number }): void;
  /** A joined channel ended. */
  leave?(event: { topic: string; pattern: string; reason: string }): void;
  /** A client push was handled by `handleIn` (`status` is the reply status, "noreply", "stop" or "crash"). */
  handleIn?(event: { topic: string; pattern: string; event: string; status: string; durationMs: number }): void;
  /** A broadcast was delivered on this node to `subscribers` local subscribers. */
  broadcast?(event: { topic: string; event: string; subscribers: number }): void;
  /** Something went wrong. */
  error?(event: { kind: ErrorKind; topic?: string }): void;
  /** A join or message was refused by a rate limit. */
  rateLimited?(event: { what: "join" | "message" }): void;
  /** A client that stopped reading was cut off. */
  slowConsumer?(event: { transport: string }): void;
}
