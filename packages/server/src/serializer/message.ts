/**
 * The Phoenix message model shared by every serializer: a decoded `Message`
 * (join_ref, ref, topic, event, payload), a `Reply` to a client push, and an encoded
 * `Frame` ready for a transport. A payload is any JSON value or raw bytes (`Uint8Array`);
 * bytes travel as binary frames.
 */

/** A message as it travels between client and server, in the protocol's own field names. */
export interface Message {
  /** The join_ref of the channel the message belongs to, or null. */
  joinRef: string | null;
  /** The ref a client uses to match a reply, or null. */
  ref: string | null;
  topic: string;
  event: string;
  /** A JSON value, or a `Uint8Array` for binary payloads. */
  payload: unknown;
}

/** A `phx_reply` to the client message with `ref`. */
export interface Reply {
  joinRef: string | null;
  ref: string | null;
  topic: string;
  status: string;
  /** A JSON value, or a `Uint8Array` for a binary reply. */
  response: unknown;
}

/** True when a payload is raw bytes and travels as a binary frame. */
export function isBinary(payload: unknown): payload is Uint8Array {
  return payload instanceof Uint8Array;
}

/**
 * An encoded message: the bytes for the transport, and whether it is a binary frame.
 * A frame is immutable and may be written to many connections; transports may memoise
 * their own wire form of it in `wire` (e.g. a complete WebSocket frame).
 */
export class Frame {
  /** A transport's memo of this frame in its own wire form (set by the transport). */
  wire: unknown = undefined;
  private cachedText: string | undefined;

  constructor(
    /** The encoded bytes (UTF-8 JSON for text frames). */
    readonly bytes: Buffer,
    /** True for a binary frame, false for a text frame. */
    readonly binary: boolean,
    text?: string,
  ) {
    this.cachedText = text;
  }

  /** The frame as text (for text frames: the JSON; for binary frames: base64). */
  get text(): string {
    if (this.cachedText === undefined) {
      this.cachedText = this.binary ? this.bytes.toString("base64") : this.bytes.toString("utf8");
    }
    return this.cachedText;
  }

  /** Builds a text frame from a JSON string. */
  static text(json: string): Frame {
    return new Frame(Buffer.from(json, "utf8"), false, json);
  }
}

/** Thrown when an incoming frame cannot be decoded; the connection answers by closing. */
export class DecodeError extends Error {
  override readonly name = "DecodeError";
}

/** Reads a join_ref or ref field of a client frame: a string, a number (as text) or null. */
export function decodeRef(value: unknown, name: string): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === "string") return value;
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  throw new DecodeError(`${name} must be a string or null`);
}

/** Thrown when a message cannot be encoded (e.g. a binary frame field over 255 bytes). */
export class EncodeError extends Error {
  override readonly name = "EncodeError";
}

/** A wire format: decodes client frames and encodes server messages. */
export interface Serializer {
  /** The protocol version this serializer speaks ("1.0.0" or "2.0.0"). */
  readonly vsn: string;
  /** Decodes one client frame. Throws `DecodeError` for anything malformed. */
  decode(data: Buffer, binary: boolean): Message;
  /** Encodes a push, broadcast, `phx_close` or `phx_error`. */
  encode(message: Message): Frame;
  /** Encodes a `phx_reply`. */
  encodeReply(reply: Reply): Frame;
}
