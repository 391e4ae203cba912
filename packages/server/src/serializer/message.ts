/**
 * The server's serializers: the wire formats of `@cinder/protocol` turned into `Frame`s (the
 * bytes a transport writes, or their text for long-poll) and client frames decoded from the
 * `Buffer`s transports receive. The message model itself (`Message`, `Reply`, `Broadcast`) is
 * the protocol package's.
 */
import { isBinary, type Broadcast, type Encoded, type Message, type Reply, type ServerCodec } from "@cinder/protocol";

export { DecodeError, EncodeError, isBinary, type Broadcast, type Message, type Reply } from "@cinder/protocol";

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

  /** The frame of a protocol encoding: a string is a text frame, bytes a binary frame (not copied). */
  static of(encoded: Encoded): Frame {
    if (typeof encoded === "string") return Frame.text(encoded);
    return new Frame(Buffer.from(encoded.buffer, encoded.byteOffset, encoded.byteLength), true);
  }
}

/** A wire format: decodes client frames and encodes server messages. */
export interface Serializer {
  /** The protocol version this serializer speaks ("1.0.0" or "2.0.0"). */
  readonly vsn: string;
  /** Decodes one client frame; a binary payload is a copy (a `Buffer`). Throws `DecodeError` for anything malformed. */
  decode(data: Buffer, binary: boolean): Message;
  /** Encodes a push, `phx_close` or `phx_error`. Throws `EncodeError`. */
  encode(message: Message): Frame;
  /** Encodes a `phx_reply`. Throws `EncodeError`. */
  encodeReply(reply: Reply): Frame;
  /** Encodes a broadcast once for all its subscribers on this format (Phoenix's `fastlane!`). Throws `EncodeError`. */
  fastlane(broadcast: Broadcast): Frame;
}

/** The server serializer of a protocol codec. */
export function serializerOf(codec: ServerCodec): Serializer {
  return {
    vsn: codec.vsn,
    decode(data, binary) {
      const message = codec.decode(binary ? data : data.toString("utf8"));
      // A copy, so the payload does not pin the socket's receive buffer.
      if (binary && isBinary(message.payload)) message.payload = Buffer.from(message.payload);
      return message;
    },
    encode: (message) => Frame.of(codec.encode(message)),
    encodeReply: (reply) => Frame.of(codec.encodeReply(reply)),
    fastlane: (broadcast) => Frame.of(codec.fastlane(broadcast)),
  };
}
