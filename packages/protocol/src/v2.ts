/**
 * The V2 format (`vsn` 2.x, phoenix.js's default; docs/protocol.md §2.2–§2.3): text frames are
 * JSON arrays `[join_ref, ref, topic, event, payload]`; bytes payloads travel as binary frames
 * (`binary.ts`). Both halves: `V2` for the server, `V2Client` for the client.
 */
import { decodeClientBinary, decodeServerBinary, encodeBinary, BINARY_KIND } from "./binary.js";
import { parseJson, type ClientCodec, type ServerCodec } from "./codec.js";
import { CHANNEL_EVENTS } from "./events.js";
import { DecodeError, decodeRef, isBinary, type Message } from "./message.js";

/** Decodes a V2 JSON text frame (either direction). */
export function decodeV2Text(text: string): Message {
  const value = parseJson(text, (m) => new DecodeError(m));
  if (!Array.isArray(value) || value.length < 5) {
    throw new DecodeError("a V2 frame must be a 5-element array [join_ref, ref, topic, event, payload]");
  }
  const [joinRef, ref, topic, event, payload] = value as unknown[];
  if (typeof topic !== "string") throw new DecodeError("topic must be a string");
  if (typeof event !== "string") throw new DecodeError("event must be a string");
  return { join_ref: decodeRef(joinRef, "join_ref"), ref: decodeRef(ref, "ref"), topic, event, payload };
}

/** Encodes a message as a V2 JSON text frame (either direction). */
export function encodeV2Text(message: Message): string {
  return JSON.stringify([message.join_ref ?? null, message.ref ?? null, message.topic, message.event, message.payload]);
}

const orNull = (field: string | undefined): string | null => (field === undefined || field === "" ? null : field);

/** The server's V2 codec. */
export const V2: ServerCodec = {
  vsn: "2.0.0",

  decode(data) {
    if (typeof data === "string") return decodeV2Text(data);
    const { fields: [joinRef, ref, topic, event], payload } = decodeClientBinary(data);
    return { join_ref: orNull(joinRef), ref: orNull(ref), topic: topic!, event: event!, payload };
  },

  encode(message) {
    const { join_ref, topic, event, payload } = message;
    if (!isBinary(payload)) return encodeV2Text(message);
    if (join_ref === null && message.ref === null) return V2.fastlane(message);
    return encodeBinary(BINARY_KIND.push, [["join_ref", join_ref], ["topic", topic], ["event", event]], payload);
  },

  encodeReply(reply) {
    const { join_ref, ref, topic, status, response } = reply;
    if (!isBinary(response)) return encodeV2Text({ join_ref, ref, topic, event: CHANNEL_EVENTS.reply, payload: { status, response } });
    return encodeBinary(BINARY_KIND.reply, [["join_ref", join_ref], ["ref", ref], ["topic", topic], ["status", status]], response);
  },

  fastlane(broadcast) {
    const { topic, event, payload } = broadcast;
    if (!isBinary(payload)) return encodeV2Text({ join_ref: null, ref: null, topic, event, payload });
    return encodeBinary(BINARY_KIND.broadcast, [["topic", topic], ["event", event]], payload);
  },
};

/** The client's V2 codec (what phoenix.js's serializer does). */
export const V2Client: ClientCodec = {
  encode(message) {
    const { join_ref, ref, topic, event, payload } = message;
    if (!isBinary(payload)) return encodeV2Text(message);
    return encodeBinary(BINARY_KIND.push, [["join_ref", join_ref], ["ref", ref], ["topic", topic], ["event", event]], payload);
  },

  decode(data) {
    if (typeof data === "string") return decodeV2Text(data);
    const { kind, fields, payload } = decodeServerBinary(data);
    switch (kind) {
      case BINARY_KIND.push:
        return { join_ref: orNull(fields[0]), ref: null, topic: fields[1]!, event: fields[2]!, payload };
      case BINARY_KIND.reply:
        return {
          join_ref: orNull(fields[0]), ref: orNull(fields[1]), topic: fields[2]!, event: CHANNEL_EVENTS.reply,
          payload: { status: fields[3]!, response: payload },
        };
      default:
        return { join_ref: null, ref: null, topic: fields[0]!, event: fields[1]!, payload };
    }
  },
};
