/**
 * `EncodedJson`: a payload already encoded as JSON bytes, for a payload many pushes share (a
 * topic's `presence_state`). A serializer splices the bytes into each frame it builds instead of
 * encoding the value again; only the frame's head (join_ref, topic, event) is encoded per push.
 */
import type { Message } from "@cinder/protocol";
import { Frame } from "./frame.js";

/** A JSON payload encoded once (UTF-8 bytes of one JSON value), shared by many frames. */
export class EncodedJson {
  /** The value's bytes as consecutive parts (shared as they are by every frame built around them). */
  readonly parts: readonly Buffer[];
  private joined: Buffer | undefined;

  /**
   * `bytes` must hold exactly one JSON value (callers build it with `JSON.stringify`), in one
   * buffer or as consecutive parts (the parts are never modified afterwards).
   */
  constructor(bytes: Buffer | readonly Buffer[]) {
    this.parts = Buffer.isBuffer(bytes) ? [bytes] : bytes;
    if (Buffer.isBuffer(bytes)) this.joined = bytes;
  }

  /** The value's bytes as one buffer (joined once when there are several parts). */
  get bytes(): Buffer {
    return (this.joined ??= Buffer.concat(this.parts as Buffer[]));
  }

  /** The decoded value: what `JSON.stringify` embeds when this reaches a path that encodes values. */
  toJSON(): unknown {
    return JSON.parse(this.bytes.toString("utf8")) as unknown;
  }
}

/** The frame of a push (or `phx_close`/`phx_error`) whose payload is pre-encoded, in the JSON format `vsn` names. */
export function encodedJsonFrame(vsn: string, message: Message, payload: EncodedJson): Frame {
  if (vsn.startsWith("1.")) {
    // docs/protocol.md §2.1: {topic, event, payload, ref}; the server never sends join_ref in V1.
    const head = `{"topic":${JSON.stringify(message.topic)},"event":${JSON.stringify(message.event)},"payload":`;
    return Frame.textParts(head, payload.parts, `,"ref":${JSON.stringify(message.ref ?? null)}}`);
  }
  // docs/protocol.md §2.2: [join_ref, ref, topic, event, payload].
  const head = JSON.stringify([message.join_ref ?? null, message.ref ?? null, message.topic, message.event]);
  return Frame.textParts(`${head.slice(0, -1)},`, payload.parts, "]");
}
