/** How the runtime recognises what channel callbacks return: a promise, a reply, a stop. */
import type { ReplyResult, StopResult } from "./definition.js";

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
  return typeof value === "object" && value !== null && (value as StopResult).kind === "stop";
}
