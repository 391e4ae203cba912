/**
 * The message model of the Phoenix Channels protocol (docs/protocol.md §2), in the protocol's
 * own words: a `Message` (join_ref, ref, topic, event, payload) travels both ways; the server
 * answers a client push with a `Reply` (status and response) and fans a `Broadcast` (topic,
 * event, payload; no refs) out to every subscriber of a topic. A payload is any JSON value or
 * raw bytes (`Uint8Array`); bytes travel as binary frames.
 */

/** A message as it travels between client and server. */
export interface Message<P = unknown> {
  /** The join_ref of the channel join the message belongs to, or null (broadcasts, heartbeats). */
  join_ref: string | null;
  /** The ref a client uses to match a reply, or null. */
  ref: string | null;
  topic: string;
  event: string;
  /** A JSON value, or bytes for a binary frame. */
  payload: P;
}

/** The server's `phx_reply` to the client message with `ref`. */
export interface Reply<R = unknown> {
  join_ref: string | null;
  ref: string | null;
  topic: string;
  /** "ok", "error", or any status the handler chose. */
  status: string;
  /** A JSON value, or bytes for a binary reply. */
  response: R;
}

/** A message sent to every subscriber of a topic: no join_ref, no ref. */
export interface Broadcast<P = unknown> {
  topic: string;
  event: string;
  payload: P;
}

/** An encoded frame: a string is a text frame, bytes are a binary frame. */
export type Encoded = string | Uint8Array;

/** True when a payload is raw bytes and travels as a binary frame. */
export function isBinary(payload: unknown): payload is Uint8Array {
  return payload instanceof Uint8Array;
}

/** Thrown when a frame cannot be decoded. */
export class DecodeError extends Error {
  override readonly name = "DecodeError";
}

/** Thrown when a message cannot be encoded (a binary frame field over 255 bytes, bytes over V1). */
export class EncodeError extends RangeError {
  override readonly name = "EncodeError";
}

/** Reads a join_ref or ref field of a frame: a string, a number (as text) or null. */
export function decodeRef(value: unknown, name: string): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === "string") return value;
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  throw new DecodeError(`${name} must be a string or null`);
}
