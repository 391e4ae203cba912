/**
 * The default serializer: `@cinder/protocol`'s V2 client codec (JSON arrays
 * `[join_ref, ref, topic, event, payload]` in text frames; binary frames for `ArrayBuffer`
 * payloads: kind 0 push out; kinds 0 push, 1 reply, 2 broadcast in), with phoenix.js's callback
 * signatures and binary payloads handed over as `ArrayBuffer`, as phoenix.js does.
 */
import { CHANNEL_EVENTS, DecodeError, V2Client, isBinary } from "@cinder/protocol";
import { bytesOf, exactCopy, isBinaryPayload, toArrayBuffer } from "./encoding.js";
import type { Message } from "./types.js";

export { DecodeError } from "@cinder/protocol";

/** A message encoder/decoder with phoenix.js's callback signatures (the `encode`/`decode` socket options). */
export interface SerializerLike {
  encode(message: Message, callback: (encoded: string | ArrayBuffer) => void): void;
  decode(raw: unknown, callback: (message: Message) => void): void;
}

/** Encodes a client push with a binary payload as a kind 0 frame. Throws a `RangeError` for a field over 255 bytes. */
export function encodeBinaryPush(message: Message<ArrayBuffer | ArrayBufferView>): ArrayBuffer {
  const frame = V2Client.encode({ ...message, payload: bytesOf(message.payload) }) as Uint8Array;
  return frame.buffer as ArrayBuffer;
}

/** Decodes a server binary frame (kind 0 push, 1 reply, 2 broadcast); binary payloads as `ArrayBuffer`. */
export function decodeBinary(buffer: ArrayBuffer): Message {
  const message = V2Client.decode(new Uint8Array(buffer));
  if (message.event === CHANNEL_EVENTS.reply && !isBinary(message.payload)) {
    const reply = message.payload as { status: string; response: Uint8Array };
    return { ...message, payload: { status: reply.status, response: exactCopy(reply.response) } };
  }
  return { ...message, payload: exactCopy(message.payload as Uint8Array) };
}

/** Decodes a V2 JSON text frame. */
export function decodeText(text: string): Message {
  return V2Client.decode(text);
}

/** The default serializer (V2 JSON + binary). */
export const Serializer: SerializerLike = {
  encode(message, callback) {
    if (isBinaryPayload(message.payload)) {
      callback(encodeBinaryPush(message as Message<ArrayBuffer | ArrayBufferView>));
      return;
    }
    callback(V2Client.encode(message) as string);
  },
  decode(raw, callback) {
    if (typeof raw === "string") {
      callback(decodeText(raw));
      return;
    }
    const buffer = toArrayBuffer(raw);
    if (buffer === null) throw new DecodeError("unsupported frame data (expected a string or an ArrayBuffer)");
    callback(decodeBinary(buffer));
  },
};
