/**
 * The V2 binary frame layout (docs/protocol.md §2.3): one kind byte, one length byte per header
 * string, the header strings (UTF-8, at most 255 bytes each), then the raw payload.
 * Kind 0 is a push (client → server: join_ref, ref, topic, event; server → client: join_ref,
 * topic, event), kind 1 a reply (join_ref, ref, topic, status), kind 2 a broadcast (topic, event).
 */
import { utf8Decode, utf8Encode } from "./bytes.js";
import { DecodeError, EncodeError } from "./message.js";

/** The kind byte of a binary frame. */
export const BINARY_KIND = { push: 0, reply: 1, broadcast: 2 } as const;

/** The header fields each kind carries, by direction. */
const FIELDS = {
  clientPush: ["join_ref", "ref", "topic", "event"],
  push: ["join_ref", "topic", "event"],
  reply: ["join_ref", "ref", "topic", "status"],
  broadcast: ["topic", "event"],
} as const;

/** Builds a binary frame: `kind`, the header strings (null as empty), then `payload`. */
export function encodeBinary(kind: number, fields: ReadonlyArray<readonly [name: string, value: string | null]>, payload: Uint8Array): Uint8Array {
  const encoded = fields.map(([name, value]) => {
    const bytes = utf8Encode(value ?? "");
    if (bytes.length > 255) throw new EncodeError(`${name} is longer than 255 bytes and cannot go in a binary frame`);
    return bytes;
  });
  const headerSize = 1 + encoded.length;
  const out = new Uint8Array(encoded.reduce((n, f) => n + f.length, headerSize) + payload.length);
  out[0] = kind;
  let offset = headerSize;
  encoded.forEach((bytes, i) => {
    out[1 + i] = bytes.length;
    out.set(bytes, offset);
    offset += bytes.length;
  });
  out.set(payload, offset);
  return out;
}

/** A binary frame read back: its kind, header strings and payload (a view into the frame). */
export interface BinaryFrame {
  kind: number;
  fields: string[];
  payload: Uint8Array;
}

/** Reads a frame of a kind with `count` header strings. */
function readFields(frame: Uint8Array, count: number): BinaryFrame {
  if (frame.length < 1 + count) throw new DecodeError("binary frame shorter than its header");
  let offset = 1 + count;
  const fields: string[] = [];
  for (let i = 0; i < count; i += 1) {
    const length = frame[1 + i]!;
    if (offset + length > frame.length) throw new DecodeError("binary frame header runs past its end");
    fields.push(utf8Decode(frame.subarray(offset, offset + length)));
    offset += length;
  }
  return { kind: frame[0]!, fields, payload: frame.subarray(offset) };
}

/** Decodes a client's binary frame (the server side): only kind 0 pushes, with a topic and an event. */
export function decodeClientBinary(frame: Uint8Array): BinaryFrame {
  if (frame.length === 0 || frame[0] !== BINARY_KIND.push) throw new DecodeError(`unsupported binary frame kind ${String(frame[0])}`);
  const read = readFields(frame, FIELDS.clientPush.length);
  if (read.fields[2] === "" || read.fields[3] === "") throw new DecodeError("binary frame lacks topic or event");
  return read;
}

/** Decodes a server's binary frame (the client side): kind 0 push, 1 reply or 2 broadcast. */
export function decodeServerBinary(frame: Uint8Array): BinaryFrame {
  switch (frame[0]) {
    case BINARY_KIND.push: return readFields(frame, FIELDS.push.length);
    case BINARY_KIND.reply: return readFields(frame, FIELDS.reply.length);
    case BINARY_KIND.broadcast: return readFields(frame, FIELDS.broadcast.length);
    default: throw new DecodeError(`unknown binary frame kind ${String(frame[0])}`);
  }
}
