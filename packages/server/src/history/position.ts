/**
 * Stream positions: where a publication sits in a topic's history. An `offset` grows by one
 * per publication on the topic; the `epoch` names the stream's incarnation and changes
 * whenever its history was lost (a restart of an in-memory store, a Redis without the keys),
 * so a client never takes a reset stream for a continuous one. The position and its wire form
 * `"<epoch>:<offset>"` (docs/recovery.md) are `@cinder/protocol`'s, shared with the client; the
 * server adds publications and fresh epochs.
 */
import { randomBytes } from "node:crypto";
import type { StreamPosition } from "@cinder/protocol";

export { formatPosition, parsePosition, type StreamPosition } from "@cinder/protocol";

/** One recorded broadcast on a stream topic. */
export interface Publication {
  readonly topic: string;
  readonly event: string;
  /** A JSON value or a `Uint8Array`. */
  readonly payload: unknown;
  /** Its place in the topic's stream. */
  readonly position: StreamPosition;
}

/** A fresh epoch name. */
export function newEpoch(): string {
  return randomBytes(5).toString("hex");
}
