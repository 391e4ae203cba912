/**
 * `Frame`: one server message ready for the wire, built once and shared by every connection it
 * goes to. A server WebSocket frame is unmasked, so its complete bytes (header and payload) are
 * the same for every connection: the frame is laid out that way when it is built, as `chunks` —
 * one buffer, or, for a frame spliced around a large shared payload (a topic's `presence_state`),
 * the header and head, the payload's own buffers and the tail, so the payload is never copied per
 * frame. `wire` (the whole frame) and `bytes` (its payload: what `ws.send` and long-poll need) join
 * them on demand. This is the only model of a server frame's bytes; transports never memoise their
 * own copy.
 */
import type { Encoded } from "@cinder/protocol";

const OPCODE_TEXT = 0x1;
const OPCODE_BINARY = 0x2;
/** Spliced payloads at least this large are shared by reference rather than copied into each frame. */
const SHARE_ABOVE = 16 * 1024;

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
  private cachedText: string | undefined;
  private cachedWire: Buffer | undefined;
  private cachedBytes: Buffer | undefined;
  /** Bytes of the complete frame (header + payload). */
  readonly length: number;

  private constructor(
    /**
     * The complete, final, unmasked WebSocket frame (header + payload) as consecutive chunks, the
     * same for every connection: one buffer for most frames; for a frame spliced around a shared
     * payload (`textParts`), the header and head, the shared payload's own buffers (not copied), and
     * the tail. A transport writes them in order (one `writev`).
     */
    readonly chunks: readonly Buffer[],
    private readonly header: number,
    /** True for a binary frame, false for a text frame. */
    readonly binary: boolean,
    text: string | undefined,
  ) {
    let length = 0;
    for (const chunk of chunks) length += chunk.length;
    this.length = length;
    this.cachedText = text;
    if (chunks.length === 1) this.cachedWire = chunks[0];
  }

  /** The complete frame as one buffer (joined once from `chunks` when there are several). */
  get wire(): Buffer {
    return (this.cachedWire ??= Buffer.concat(this.chunks as Buffer[], this.length));
  }

  /** The encoded payload (UTF-8 JSON for text frames): a view into `wire`. */
  get bytes(): Buffer {
    return (this.cachedBytes ??= this.wire.subarray(this.header));
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
    return new Frame([wire], header, false, json);
  }

  /**
   * A text frame of `head`, `body` and `tail`: a pre-encoded payload spliced into a message. The
   * body's buffers are shared, not copied (small ones excepted), so many frames around one large
   * payload cost one header each.
   */
  static textParts(head: string, body: readonly Uint8Array[], tail: string): Frame {
    const headBytes = Buffer.byteLength(head, "utf8");
    let bodyBytes = 0;
    for (const part of body) bodyBytes += part.length;
    const length = headBytes + bodyBytes + Buffer.byteLength(tail, "utf8");
    const header = headerLength(length);
    if (bodyBytes < SHARE_ABOVE) {
      // Small payloads: one buffer is cheaper than a writev of several.
      const wire = Buffer.allocUnsafe(header + length);
      writeHeader(wire, header, length, false);
      let at = header + wire.write(head, header, "utf8");
      for (const part of body) {
        wire.set(part, at);
        at += part.length;
      }
      wire.write(tail, at, "utf8");
      return new Frame([wire], header, false, undefined);
    }
    const first = Buffer.allocUnsafe(header + headBytes);
    writeHeader(first, header, length, false);
    first.write(head, header, "utf8");
    const shared = body.map((part) => (Buffer.isBuffer(part) ? part : Buffer.from(part.buffer, part.byteOffset, part.length)));
    return new Frame([first, ...shared, Buffer.from(tail, "utf8")], header, false, undefined);
  }

  /** A binary frame carrying a copy of `payload`. */
  static binary(payload: Uint8Array): Frame {
    const header = headerLength(payload.length);
    const wire = Buffer.allocUnsafe(header + payload.length);
    writeHeader(wire, header, payload.length, true);
    wire.set(payload, header);
    return new Frame([wire], header, true, undefined);
  }

  /** The frame of a protocol encoding: a string is a text frame, bytes a binary frame. */
  static of(encoded: Encoded): Frame {
    return typeof encoded === "string" ? Frame.text(encoded) : Frame.binary(encoded);
  }
}
