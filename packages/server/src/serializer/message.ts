/**
 * The server's serializers: the wire formats of `@cinder/protocol` turned into `Frame`s (see
 * `frame.ts`), and client frames decoded from the `Buffer`s transports receive. The message model itself (`Message`, `Reply`, `Broadcast`) is
 * the protocol package's.
 */
import { isBinary, type Broadcast, type Message, type Reply, type ServerCodec } from "@cinder/protocol";
import { EncodedJson, encodedJsonFrame } from "./encoded-json.js";
import { Frame } from "./frame.js";

export { Frame } from "./frame.js";
export { EncodedJson } from "./encoded-json.js";

export { DecodeError, EncodeError, isBinary, type Broadcast, type Message, type Reply } from "@cinder/protocol";

/** A wire format: decodes client frames and encodes server messages. */
export interface Serializer {
  /** The protocol version this serializer speaks ("1.0.0" or "2.0.0"). */
  readonly vsn: string;
  /** Decodes one client frame; a binary payload is a copy (a `Buffer`). Throws `DecodeError` for anything malformed. */
  decode(data: Buffer, binary: boolean): Message;
  /** Encodes a push, `phx_close` or `phx_error` (an `EncodedJson` payload is spliced in as is). Throws `EncodeError`. */
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
    encode: (message) =>
      message.payload instanceof EncodedJson ? encodedJsonFrame(codec.vsn, message, message.payload) : Frame.of(codec.encode(message)),
    encodeReply: (reply) => Frame.of(codec.encodeReply(reply)),
    fastlane: (broadcast) => Frame.of(codec.fastlane(broadcast)),
  };
}
