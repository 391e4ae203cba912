// The V2 binary frame layout (docs/protocol.md §2.3), written here independently of
// @cinder/protocol: the suite is an oracle, so it keeps a codec of its own.

/** A server → client binary frame, decoded: kind 0 push (no ref), 1 reply, 2 broadcast. */
export type BinaryMessage =
  | { kind: 0; joinRef: string; topic: string; event: string; payload: Buffer }
  | { kind: 1; joinRef: string; ref: string; topic: string; status: string; payload: Buffer }
  | { kind: 2; topic: string; event: string; payload: Buffer };

/** Client → server kind 0 push: [0][len jr][len ref][len topic][len event] jr ref topic event payload. */
export function encodeClientPush(joinRef: string | null, ref: string | null, topicName: string, event: string, payload: Uint8Array): Buffer {
  const parts = [joinRef ?? "", ref ?? "", topicName, event].map((s) => Buffer.from(s, "utf8"));
  for (const p of parts) if (p.length > 255) throw new Error("field longer than 255 bytes");
  return Buffer.concat([Buffer.from([0, ...parts.map((p) => p.length)]), ...parts, Buffer.from(payload)]);
}

/**
 * Strictly decodes a server → client binary frame. Returns an error string when the frame is
 * malformed (unknown kind, header lengths running past the end, invalid UTF-8).
 */
export function decodeServerBinary(buf: Buffer): BinaryMessage | string {
  const kind = buf[0];
  const utf8 = new TextDecoder("utf-8", { fatal: true });
  let offset: number;
  const take = (len: number, name: string): string => {
    if (offset + len > buf.length) throw new Error(`${name} (${len} bytes at ${offset}) runs past the end (${buf.length} bytes)`);
    const s = utf8.decode(buf.subarray(offset, offset + len));
    offset += len;
    return s;
  };
  try {
    switch (kind) {
      case 0: {
        if (buf.length < 4) return `kind 0 frame shorter than its 4-byte header (${buf.length} bytes)`;
        offset = 4;
        const joinRef = take(buf[1]!, "join_ref"), t = take(buf[2]!, "topic"), event = take(buf[3]!, "event");
        return { kind: 0, joinRef, topic: t, event, payload: buf.subarray(offset) };
      }
      case 1: {
        if (buf.length < 5) return `kind 1 frame shorter than its 5-byte header (${buf.length} bytes)`;
        offset = 5;
        const joinRef = take(buf[1]!, "join_ref"), ref = take(buf[2]!, "ref"), t = take(buf[3]!, "topic"), status = take(buf[4]!, "status");
        return { kind: 1, joinRef, ref, topic: t, status, payload: buf.subarray(offset) };
      }
      case 2: {
        if (buf.length < 3) return `kind 2 frame shorter than its 3-byte header (${buf.length} bytes)`;
        offset = 3;
        const t = take(buf[1]!, "topic"), event = take(buf[2]!, "event");
        return { kind: 2, topic: t, event, payload: buf.subarray(offset) };
      }
      default:
        return `unknown binary kind ${String(kind)}`;
    }
  } catch (e) {
    return `malformed kind ${String(kind)} frame: ${(e as Error).message}`;
  }
}

/** Bytes the binary wire tests send: zeros, high bytes, and bytes that look like JSON. */
export const BYTES = [0, 1, 2, 250, 255, 128, 10, 13, 0x7b, 0x22];

/** Bytes as an exact ArrayBuffer (what phoenix.js needs to send binary; @cinder/client takes typed arrays too). */
export function arrayBuffer(bytes: number[] | Uint8Array): ArrayBuffer {
  const u = Uint8Array.from(bytes);
  return u.buffer.slice(u.byteOffset, u.byteOffset + u.byteLength) as ArrayBuffer;
}
