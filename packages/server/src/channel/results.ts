/**
 * The one reading of what channel callbacks return (Phoenix's `handle_result`): each callback
 * has its own set of valid results, and anything else becomes a `BadReturnError` that shows
 * the value returned. `readResult` returns the result itself (no allocation on the hot path) or
 * the error, as a value; the channel decides what an error means for it (a refused join, a
 * crashed channel).
 */
import { inspect } from "node:util";
import type { ReplyResult, StopResult } from "./definition.js";

/** The channel callbacks whose results are read. */
export type ResultCallback = "join" | "handleIn" | "handleOut" | "handleInfo";

/** The valid results of each callback (`undefined` is "nothing": ok for join, noreply otherwise). */
export interface ValidResult {
  join: ReplyResult<"ok" | "error"> | undefined;
  handleIn: ReplyResult | StopResult | undefined;
  handleOut: StopResult | undefined;
  handleInfo: StopResult | undefined;
}

const EXPECTED: Readonly<Record<ResultCallback, string>> = {
  join: "ok(...), error(...) or nothing",
  handleIn: "ok(...), error(...), reply(...), stop(...) or nothing",
  handleOut: "stop(...) or nothing",
  handleInfo: "stop(...) or nothing",
};

/** A callback returned something it may not return; the message shows the value. */
export class BadReturnError extends TypeError {
  constructor(
    /** The callback that returned it. */
    readonly callback: ResultCallback,
    /** The (awaited) value it returned. */
    readonly value: unknown,
  ) {
    super(`${callback} returned ${showValue(value)}; expected ${EXPECTED[callback]}`);
    this.name = "BadReturnError";
  }
}

/** A short one-line rendering of a returned value for error messages. */
function showValue(value: unknown): string {
  return inspect(value, { depth: 2, breakLength: Infinity, maxArrayLength: 10, maxStringLength: 200 });
}

/** True for a thenable (an async callback's result). */
export function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as { then?: unknown } | null)?.then === "function";
}

/** True for an `ok` / `error` / `reply` result. */
export function isReply(value: unknown): value is ReplyResult {
  return typeof value === "object" && value !== null && (value as ReplyResult).kind === "reply"
    && typeof (value as ReplyResult).status === "string";
}

/** True for a `stop` result. */
export function isStop(value: unknown): value is StopResult {
  return typeof value === "object" && value !== null && (value as StopResult).kind === "stop"
    && typeof (value as StopResult).reason === "string";
}

/** Reads the (awaited) `value` a `callback` returned: the valid result itself, or a `BadReturnError`. */
export function readResult<C extends ResultCallback>(callback: C, value: unknown): ValidResult[C] | BadReturnError {
  if (value === undefined) return undefined;
  switch (callback) {
    case "join":
      if (isReply(value) && (value.status === "ok" || value.status === "error")) return value as ValidResult[C];
      break;
    case "handleIn":
      if (isReply(value) || isStop(value)) return value as ValidResult[C];
      break;
    default:
      if (isStop(value)) return value as ValidResult[C];
  }
  return new BadReturnError(callback, value);
}

/** How a result shows in diagnostics (`cinder:channel:handle_in`): the reply status, "noreply", "stop", or "crash" for a bad return. */
export function resultStatus(result: ReplyResult | StopResult | BadReturnError | undefined): string {
  if (result === undefined) return "noreply";
  if (result instanceof BadReturnError) return "crash";
  return result.kind === "reply" ? result.status : "stop";
}
