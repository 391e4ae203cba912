/**
 * Recovery on join, for stream topics (docs/recovery.md). A client opts in with the join param
 * `stream`: `true` (just tell me the position), `"<epoch>:<offset>"` (give me everything after
 * it) or `{ "last": n }` (give me the last n). The channel subscribes first and holds live
 * broadcasts back, reads the history, replies with `stream: {position, recovered}`, then sends
 * the missed publications and the held-back live ones, each at most once and in stream order —
 * the `StreamCursor` drops what was already sent.
 */
import type { StreamReply } from "@cinder/protocol";
import { formatPosition, parsePosition, type HistoryRead, type Publication, type StreamPosition } from "../history/index.js";

export type { StreamReply } from "@cinder/protocol";

/** What a joining client asked of a stream topic. */
export type StreamRequest =
  | { readonly kind: "position" }
  | { readonly kind: "recover"; readonly from: StreamPosition }
  | { readonly kind: "last"; readonly count: number }
  /** A `stream` param that is none of the above: answered `recovered: false` with the position. */
  | { readonly kind: "invalid" };

/** The largest `{last: n}` a client may ask for (the history's size bounds it too). */
export const MAX_LAST = 10_000;

/** Reads the `stream` join param; undefined when the client did not opt in. */
export function readStreamRequest(params: unknown): StreamRequest | undefined {
  if (typeof params !== "object" || params === null || Array.isArray(params)) return undefined;
  if (!Object.prototype.hasOwnProperty.call(params, "stream")) return undefined;
  const value = (params as Record<string, unknown>).stream;
  if (value === true) return { kind: "position" };
  if (typeof value === "string") {
    const from = parsePosition(value);
    return from === null ? { kind: "invalid" } : { kind: "recover", from };
  }
  if (typeof value === "object" && value !== null && !Array.isArray(value)) {
    const last = (value as Record<string, unknown>).last;
    if (typeof last === "number" && Number.isSafeInteger(last) && last >= 0 && last <= MAX_LAST) return { kind: "last", count: last };
  }
  return value === undefined || value === null || value === false ? undefined : { kind: "invalid" };
}

/** What a stream join sends: its reply's `stream` field, the publications to replay, and where the cursor starts. */
export interface RecoveryPlan {
  readonly reply: StreamReply;
  readonly replay: readonly Publication[];
  readonly start: StreamPosition | undefined;
}

/** Plans a stream join from the client's request and what the history read gave (undefined: unreadable). */
export function planRecovery(request: StreamRequest, read: HistoryRead | undefined): RecoveryPlan {
  if (read === undefined) return { reply: { position: null, recovered: false }, replay: [], start: undefined };
  const replay = read.kind === "complete" && request.kind !== "position" ? read.publications : [];
  const start = replay.length > 0 ? { epoch: read.position.epoch, offset: replay[0]!.position.offset - 1 } : read.position;
  const recovered = read.kind === "complete" && request.kind === "recover";
  return { reply: { position: formatPosition(start), recovered }, replay, start };
}

/** Adds the `stream` field to a join response (an object; any other response is left as it is). */
export function withStreamReply(response: unknown, stream: StreamReply): unknown {
  if (typeof response !== "object" || response === null || Array.isArray(response) || ArrayBuffer.isView(response)) return response;
  return { ...(response as Record<string, unknown>), stream };
}

/**
 * The last position a channel sent its client: a publication at or before it is a duplicate
 * (it came both in the replay and live); one of another epoch starts the cursor anew.
 */
export class StreamCursor {
  private epoch: string | undefined;
  private offset = 0;

  /** Starts at `position` (what the replay ends with). */
  constructor(position?: StreamPosition) {
    if (position !== undefined) this.moveTo(position);
  }

  /** True when `position` is new to the client (and moves the cursor there); false for a duplicate. */
  admit(position: StreamPosition): boolean {
    if (position.epoch === this.epoch && position.offset <= this.offset) return false;
    this.moveTo(position);
    return true;
  }

  private moveTo(position: StreamPosition): void {
    this.epoch = position.epoch;
    this.offset = position.offset;
  }
}
