/**
 * The V1 JSON serializer (`vsn` 1.x): one JSON object per text frame. Clients send
 * `{topic, event, payload, ref, join_ref?}`; the server answers `{topic, event, payload, ref}`
 * and never emits `join_ref`. V1 has no binary frames.
 */
import { DecodeError, EncodeError, Frame, decodeRef, isBinary, type Message, type Reply, type Serializer } from "./message.js";

function parseJson(data: Buffer): unknown {
  try {
    return JSON.parse(data.toString("utf8"));
  } catch {
    throw new DecodeError("frame is not valid JSON");
  }
}

/** The V1 JSON serializer. */
export const V1Serializer: Serializer = {
  vsn: "1.0.0",

  decode(data, binary) {
    if (binary) throw new DecodeError("binary frames are not supported by the V1 serializer");
    const value = parseJson(data);
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      throw new DecodeError("V1 frame must be a JSON object");
    }
    const obj = value as Record<string, unknown>;
    for (const key of ["topic", "event", "payload", "ref"]) {
      if (!Object.prototype.hasOwnProperty.call(obj, key)) throw new DecodeError(`V1 frame lacks "${key}"`);
    }
    if (typeof obj.topic !== "string") throw new DecodeError("topic must be a string");
    if (typeof obj.event !== "string") throw new DecodeError("event must be a string");
    return {
      joinRef: decodeRef(obj.join_ref, "join_ref"),
      ref: decodeRef(obj.ref, "ref"),
      topic: obj.topic,
      event: obj.event,
      payload: obj.payload,
    };
  },

  encode(message: Message) {
    if (isBinary(message.payload)) throw new EncodeError("the V1 serializer cannot send binary payloads");
    return Frame.text(JSON.stringify({
      topic: message.topic, event: message.event, payload: message.payload, ref: message.ref,
    }));
  },

  encodeReply(reply: Reply) {
    if (isBinary(reply.response)) throw new EncodeError("the V1 serializer cannot send binary replies");
    return Frame.text(JSON.stringify({
      topic: reply.topic,
      event: "phx_reply",
      payload: { status: reply.status, response: reply.response },
      ref: reply.ref,
    }));
  },
};
