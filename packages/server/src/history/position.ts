/**
 * Stream positions: where a publication sits in a topic's history. An `offset` grows by one
 * per publication on the topic; the `epoch` names the stream's incarnation and changes
 * whenever its history was lost (a restart of an in-memory store, a Redis without the keys),
 * so a client never takes a reset stream for a continuous one. On the wire a position is the
 * string `"<epoch>:<offset>"` (docs/recovery.md), which never looks like a numeric message ref.
 */
import { randomBytes } from "node:crypto";

/** A place in a topic's stream. */
export interface StreamPosition {
  /** The stream's incarnation: a short lowercase token. */
  readonly epoch: string;
  /** The offset of the last publication at or before this position (0: none yet). */
  readonly offset: number;
}

/** One recorded broadcast on a stream topic. */
export interface Publication {
  readonly topic: string;
  readonly event: string;
  /** A JSON value or a `Uint8Array`. */
  readonly payload: unknown;
  /** Its place in the topic's stream. */
  readonly position: StreamPosition;
}

const EPOCH = /^[a-z0-9]{1,32}$/;

/** A fresh epoch name. */
export function newEpoch(): string {
  return randomBytes(5).toString("hex");
}

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
  if (!EPOCH.test(epoch) || !/^(0|[1-9][0-9]{0,15})$/.test(digits)) return null;
  const offset = Number(digits);
  if (!Number.isSafeInteger(offset)) return null;
  return { epoch, offset };
}
