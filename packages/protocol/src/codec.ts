/** What a wire format is, for each side of a connection. */
import type { Broadcast, Encoded, Message, Reply } from "./message.js";

/**
 * The server's half of a wire format: decodes client frames (a string is a text frame, bytes a
 * binary frame), encodes pushes, replies and broadcasts. Binary payloads decode as views into the
 * frame; copy them to keep them.
 */
export interface ServerCodec {
  /** The protocol version this format speaks ("1.0.0" or "2.0.0"). */
  readonly vsn: string;
  /** Decodes one client frame. Throws `DecodeError` for anything malformed. */
  decode(data: Encoded): Message;
  /** Encodes a push, `phx_close` or `phx_error` (a message with a join_ref). Throws `EncodeError`. */
  encode(message: Message): Encoded;
  /** Encodes a `phx_reply`. Throws `EncodeError`. */
  encodeReply(reply: Reply): Encoded;
  /** Encodes a broadcast once for every subscriber it goes to (Phoenix's `fastlane!`). Throws `EncodeError`. */
  fastlane(broadcast: Broadcast): Encoded;
}

/**
 * The client's half of a wire format: encodes client messages, decodes server frames (a
 * `phx_reply` decodes as a message whose payload is `{status, response}`).
 */
export interface ClientCodec {
  /** Encodes a client message. Throws `EncodeError`. */
  encode(message: Message): Encoded;
  /** Decodes one server frame. Throws `DecodeError` for anything malformed. */
  decode(data: Encoded): Message;
}

/** Parses a text frame's JSON, refusing malformed text with a `DecodeError`. */
export function parseJson(text: string, error: (message: string) => Error): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw error("frame is not valid JSON");
  }
}
