/**
 * Stream positions on the wire (docs/recovery.md): where a publication sits in a stream topic's
 * history, carried as the `ref` of its broadcast and in the `stream` join param and reply as the
 * string `"<epoch>:<offset>"` (never a numeric message ref). The `offset` grows by one per
 * publication; the `epoch` names the stream's incarnation and changes whenever its history was
 * lost, so a reset stream is never taken for a continuous one.
 */

/** A place in a topic's stream. */
export interface StreamPosition {
  /** The stream's incarnation: a short lowercase token. */
  readonly epoch: string;
  /** The offset of the last publication at or before this position (0: none yet). */
  readonly offset: number;
}

const EPOCH = /^[a-z0-9]{1,32}$/;
const OFFSET = /^(0|[1-9][0-9]{0,15})$/;

/** The wire form of a position: `"<epoch>:<offset>"`. */
export function formatPosition(position: StreamPosition): string {
  return `${position.epoch}:${position.offset}`;
}

/** Reads a position's wire form; null for anything else (a malformed position is treated as none). */
export function parsePosition(value: unknown): StreamPosition | null {
  if (typeof value !== "string" || value.length > 64) return null;
  const colon = value.lastIndexOf(":");
  if (colon <= 0) return null;
  const epoch = value.slice(0, colon);
  const digits = value.slice(colon + 1);
  if (!EPOCH.test(epoch) || !OFFSET.test(digits)) return null;
  const offset = Number(digits);
  if (!Number.isSafeInteger(offset)) return null;
  return { epoch, offset };
}

/** The `stream` join param a client sends: `true` (tell me the position), a position (replay what follows it), or `{last: n}`. */
export type StreamParam = true | string | { readonly last: number };

/** The `stream` field of the reply to a join of a stream topic. */
export interface StreamReply {
  /**
   * Where the reply leaves the client: the publications that follow it (the replay, then live
   * ones) continue from this position, so a client that keeps the last position it saw never
   * skips one, even when it is cut off in the middle of the replay. Null when the store could
   * not be read.
   */
  readonly position: string | null;
  /** True when every publication after the client's position follows the reply; false otherwise. */
  readonly recovered: boolean;
}
