/**
 * The V2 serializer: JSON arrays `[join_ref, ref, topic, event, payload]` in text frames, and
 * binary frames for `ArrayBuffer` payloads (kind 0 push out; kinds 0 push, 1 reply, 2 broadcast
 * in). Each string field of a binary frame is at most 255 UTF-8 bytes.
 */
import { CHANNEL_EVENTS } from "./constants.js";
import { bytesOf, isBinaryPayload, toArrayBuffer, utf8Decode, utf8Encode } from "./encoding.js";
import type { Message } from "./types.js";

/** A message encoder/decoder with phoenix.js's callback signatures (the `encode`/`decode` socket options). */
export interface SerializerLike {
  encode(message: Message, callback: (encoded: string | ArrayBuffer) => void): void;
  decode(raw: unknown, callback: (message: Message) => void): void;
}

/** Thrown when an incoming frame cannot be decoded. */
export class DecodeError extends Error {
  override readonly name = "DecodeError";
}

const KIND_PUSH = 0;
const KIND_REPLY = 1;
const KIND_BROADCAST = 2;

/** UTF-8 bytes of a header field, refusing more than 255 bytes. */
function field(value: string | null | undefined, name: string): Uint8Array {
  const bytes = utf8Encode(value ?? "");
  if (bytes.length > 255) throw new RangeError(`${name} is longer than 255 bytes and cannot go in a binary frame`);
  return bytes;
}

/** Encodes a client push with a binary payload as a kind 0 frame. */
export function encodeBinaryPush(message: Message<ArrayBuffer | ArrayBufferView>): ArrayBuffer {
  const fields = [
    field(message.join_ref, "join_ref"),
    field(message.ref, "ref"),
    field(message.topic, "topic"),
    field(message.event, "event"),
  ];
  const payload = bytesOf(message.payload);
  const header = 1 + fields.length;
  const size = fields.reduce((n, f) => n + f.length, header) + payload.length;
  const out = new Uint8Array(size);
  out[0] = KIND_PUSH;
  let offset = header;
  fields.forEach((f, i) => {
    out[1 + i] = f.length;
    out.set(f, offset);
    offset += f.length;
  });
  out.set(payload, offset);
  return out.buffer;
}

/** Reads the length-prefixed strings of a binary frame header. */
function readFields(view: Uint8Array, count: number): { fields: string[]; offset: number } {
  if (view.length < 1 + count) throw new DecodeError("binary frame shorter than its header");
  let offset = 1 + count;
  const fields: string[] = [];
  for (let i = 0; i < count; i += 1) {
    const length = view[1 + i] ?? 0;
    if (offset + length > view.length) throw new DecodeError("binary frame header runs past its end");
    fields.push(utf8Decode(view.subarray(offset, offset + length)));
    offset += length;
  }
  return { fields, offset };
}

/** Decodes a server binary frame (kind 0 push, 1 reply, 2 broadcast). */
export function decodeBinary(buffer: ArrayBuffer): Message {
  const view = new Uint8Array(buffer);
  const kind = view[0];
  const rest = (offset: number): ArrayBuffer => buffer.slice(offset);
  switch (kind) {
    case KIND_PUSH: {
      const { fields: [joinRef = "", topic = "", event = ""], offset } = readFields(view, 3);
      return { join_ref: joinRef || null, ref: null, topic, event, payload: rest(offset) };
    }
    case KIND_REPLY: {
      const { fields: [joinRef = "", ref = "", topic = "", status = ""], offset } = readFields(view, 4);
      return {
        join_ref: joinRef || null,
        ref: ref || null,
        topic,
        event: CHANNEL_EVENTS.reply,
        payload: { status, response: rest(offset) },
      };
    }
    case KIND_BROADCAST: {
      const { fields: [topic = "", event = ""], offset } = readFields(view, 2);
      return { join_ref: null, ref: null, topic, event, payload: rest(offset) };
    }
    default:
      throw new DecodeError(`unknown binary frame kind ${String(kind)}`);
  }
}

/** Decodes a V2 JSON text frame. */
export function decodeText(text: string): Message {
  const value: unknown = JSON.parse(text);
  if (!Array.isArray(value) || value.length < 5) throw new DecodeError("a V2 frame must be a 5-element array");
  const [joinRef, ref, topic, event, payload] = value as unknown[];
  if (typeof topic !== "string" || typeof event !== "string") throw new DecodeError("a V2 frame needs a topic and an event");
  const str = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));
  return { join_ref: str(joinRef), ref: str(ref), topic, event, payload };
}

/** The default serializer (V2 JSON + binary). */
export const Serializer: SerializerLike = {
  encode(message, callback) {
    if (isBinaryPayload(message.payload)) {
      callback(encodeBinaryPush(message as Message<ArrayBuffer | ArrayBufferView>));
      return;
    }
    callback(JSON.stringify([message.join_ref ?? null, message.ref ?? null, message.topic, message.event, message.payload]));
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
