/**
 * `Frame`: one server message ready for the wire, built once and shared by every connection it
 * goes to. A server WebSocket frame is unmasked, so its complete bytes (header and payload) are
 * the same for every connection: the frame is laid out that way when it is built, and `bytes` is
 * a view of its payload (what `ws.send` and long-poll need). This is the only model of a server
 * frame's bytes; transports never memoise their own copy.
 */
import type { Encoded } from "@cinder/protocol";

const OPCODE_TEXT = 0x1;
const OPCODE_BINARY = 0x2;

/** The length of an unmasked WebSocket frame header for a payload of `length` bytes (RFC 6455 §5.2). */
function headerLength(length: number): number {
  return length < 126 ? 2 : length < 65_536 ? 4 : 10;
}

/** Writes a final, unmasked WebSocket frame header at the start of `wire`. */
function writeHeader(wire: Buffer, header: number, length: number, binary: boolean): void {
  wire[0] = 0x80 | (binary ? OPCODE_BINARY : OPCODE_TEXT);
  if (header === 2) {
    wire[1] = length;
  } else if (header === 4) {
    wire[1] = 126;
    wire.writeUInt16BE(length, 2);
  } else {
    wire[1] = 127;
    wire.writeUInt32BE(Math.floor(length / 2 ** 32), 2);
    wire.writeUInt32BE(length >>> 0, 6);
  }
}

/** An encoded server message: a complete WebSocket frame, its payload bytes, and its text. */
export class Frame {
  /** The encoded payload (UTF-8 JSON for text frames): a view into `wire`. */
  readonly bytes: Buffer;
  private cachedText: string | undefined;

  private constructor(
    /** The complete, final, unmasked WebSocket frame (header + payload), the same for every connection. */
    readonly wire: Buffer,
    header: number,
    /** True for a binary frame, false for a text frame. */
    readonly binary: boolean,
    text: string | undefined,
  ) {
    this.bytes = wire.subarray(header);
    this.cachedText = text;
  }

  /** The frame as text (for text frames: the JSON; for binary frames: base64). */
  get text(): string {
    if (this.cachedText === undefined) {
      this.cachedText = this.binary ? this.bytes.toString("base64") : this.bytes.toString("utf8");
    }
    return this.cachedText;
  }

  /** A text frame of a JSON string (encoded straight into the frame). */
  static text(json: string): Frame {
    const length = Buffer.byteLength(json, "utf8");
    const header = headerLength(length);
    const wire = Buffer.allocUnsafe(header + length);
    writeHeader(wire, header, length, false);
    wire.write(json, header, "utf8");
    return new Frame(wire, header, false, json);
  }

  /** A text frame of `head`, `body` (UTF-8 bytes, copied in) and `tail`: a pre-encoded payload spliced into a message. */
  static textParts(head: string, body: Uint8Array, tail: string): Frame {
    const headBytes = Buffer.byteLength(head, "utf8");
    const length = headBytes + body.length + Buffer.byteLength(tail, "utf8");
    const header = headerLength(length);
    const wire = Buffer.allocUnsafe(header + length);
    writeHeader(wire, header, length, false);
    wire.write(head, header, "utf8");
    wire.set(body, header + headBytes);
    wire.write(tail, header + headBytes + body.length, "utf8");
    return new Frame(wire, header, false, undefined);
  }

  /** A binary frame carrying a copy of `payload`. */
  static binary(payload: Uint8Array): Frame {
    const header = headerLength(payload.length);
    const wire = Buffer.allocUnsafe(header + payload.length);
    writeHeader(wire, header, payload.length, true);
    wire.set(payload, header);
    return new Frame(wire, header, true, undefined);
  }

  /** The frame of a protocol encoding: a string is a text frame, bytes a binary frame. */
  static of(encoded: Encoded): Frame {
    return typeof encoded === "string" ? Frame.text(encoded) : Frame.binary(encoded);
  }
}
