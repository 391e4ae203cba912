/**
 * The V1 JSON format (`vsn` 1.x, docs/protocol.md §2.1): one JSON object per text frame. Clients
 * send `{topic, event, payload, ref, join_ref?}`; the server answers `{topic, event, payload, ref}`
 * and never emits `join_ref`. V1 has no binary frames.
 */
import { parseJson, type ServerCodec } from "./codec.js";
import { DecodeError, EncodeError, decodeRef, isBinary, type Message } from "./message.js";
import { CHANNEL_EVENTS } from "./events.js";

const REQUIRED = ["topic", "event", "payload", "ref"] as const;

function text(message: { topic: string; event: string; payload: unknown; ref: string | null }): string {
  if (isBinary(message.payload)) throw new EncodeError("the V1 serializer cannot send binary payloads");
  return JSON.stringify({ topic: message.topic, event: message.event, payload: message.payload, ref: message.ref });
}

/** The server's V1 JSON codec. */
export const V1: ServerCodec = {
  vsn: "1.0.0",

  decode(data): Message {
    if (typeof data !== "string") throw new DecodeError("binary frames are not supported by the V1 serializer");
    const value = parseJson(data, (m) => new DecodeError(m));
    if (typeof value !== "object" || value === null || Array.isArray(value)) throw new DecodeError("V1 frame must be a JSON object");
    const obj = value as Record<string, unknown>;
    for (const key of REQUIRED) {
      if (!Object.prototype.hasOwnProperty.call(obj, key)) throw new DecodeError(`V1 frame lacks "${key}"`);
    }
    if (typeof obj.topic !== "string") throw new DecodeError("topic must be a string");
    if (typeof obj.event !== "string") throw new DecodeError("event must be a string");
    return { join_ref: decodeRef(obj.join_ref, "join_ref"), ref: decodeRef(obj.ref, "ref"), topic: obj.topic, event: obj.event, payload: obj.payload };
  },

  encode: (message) => text(message),

  encodeReply(reply) {
    if (isBinary(reply.response)) throw new EncodeError("the V1 serializer cannot send binary replies");
    return text({ topic: reply.topic, event: CHANNEL_EVENTS.reply, payload: { status: reply.status, response: reply.response }, ref: reply.ref });
  },

  fastlane: (broadcast) => text({ ...broadcast, ref: null }),
};
