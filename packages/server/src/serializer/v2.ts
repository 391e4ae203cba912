/**
 * The V2 serializer (`vsn` 2.x, phoenix.js's default): text frames are JSON arrays
 * `[join_ref, ref, topic, event, payload]`; binary frames carry raw payloads behind a small
 * header (PROTOCOL.md §2.3): kind 0 push, kind 1 reply, kind 2 broadcast. Each header string
 * is at most 255 bytes.
 */
import { DecodeError, EncodeError, Frame, decodeRef, isBinary, type Message, type Reply, type Serializer } from "./message.js";

const KIND_PUSH = 0;
const KIND_REPLY = 1;
const KIND_BROADCAST = 2;

function decodeText(data: Buffer): Message {
  let value: unknown;
  try {
    value = JSON.parse(data.toString("utf8"));
  } catch {
    throw new DecodeError("frame is not valid JSON");
  }
  if (!Array.isArray(value) || value.length < 5) {
    throw new DecodeError("V2 frame must be an array [join_ref, ref, topic, event, payload]");
  }
  const [joinRef, ref, topic, event, payload] = value as unknown[];
  if (typeof topic !== "string") throw new DecodeError("topic must be a string");
  if (typeof event !== "string") throw new DecodeError("event must be a string");
  return { joinRef: decodeRef(joinRef, "join_ref"), ref: decodeRef(ref, "ref"), topic, event, payload };
}

function decodeBinary(data: Buffer): Message {
  if (data.length < 5) throw new DecodeError("binary frame too short");
  if (data[0] !== KIND_PUSH) throw new DecodeError(`unsupported binary frame kind ${data[0]}`);
  const joinRefSize = data[1]!;
  const refSize = data[2]!;
  const topicSize = data[3]!;
  const eventSize = data[4]!;
  let offset = 5;
  const headerEnd = offset + joinRefSize + refSize + topicSize + eventSize;
  if (headerEnd > data.length) throw new DecodeError("binary frame header exceeds the frame");
  const take = (size: number): string => {
    const text = data.toString("utf8", offset, offset + size);
    offset += size;
    return text;
  };
  const joinRef = take(joinRefSize);
  const ref = take(refSize);
  const topic = take(topicSize);
  const event = take(eventSize);
  if (topic.length === 0 || event.length === 0) throw new DecodeError("binary frame lacks topic or event");
  return {
    joinRef: joinRef.length > 0 ? joinRef : null,
    ref: ref.length > 0 ? ref : null,
    topic,
    event,
    // A copy, so the payload does not pin the socket's receive buffer.
    payload: Buffer.from(data.subarray(offset)),
  };
}

function field(value: string | null, name: string): Buffer {
  const bytes = Buffer.from(value ?? "", "utf8");
  if (bytes.length > 255) throw new EncodeError(`${name} is longer than 255 bytes and cannot go in a binary frame`);
  return bytes;
}

function binaryFrame(kind: number, fields: Buffer[], payload: Uint8Array): Frame {
  const header = Buffer.allocUnsafe(1 + fields.length);
  header[0] = kind;
  fields.forEach((f, i) => { header[i + 1] = f.length; });
  return new Frame(Buffer.concat([header, ...fields, payload]), true);
}

/** The V2 JSON + binary serializer. */
export const V2Serializer: Serializer = {
  vsn: "2.0.0",

  decode(data, binary) {
    return binary ? decodeBinary(data) : decodeText(data);
  },

  encode(message: Message) {
    const { joinRef, ref, topic, event, payload } = message;
    if (isBinary(payload)) {
      if (joinRef === null && ref === null) {
        return binaryFrame(KIND_BROADCAST, [field(topic, "topic"), field(event, "event")], payload);
      }
      return binaryFrame(KIND_PUSH, [field(joinRef, "join_ref"), field(topic, "topic"), field(event, "event")], payload);
    }
    return Frame.text(JSON.stringify([joinRef, ref, topic, event, payload]));
  },

  encodeReply(reply: Reply) {
    const { joinRef, ref, topic, status, response } = reply;
    if (isBinary(response)) {
      return binaryFrame(KIND_REPLY,
        [field(joinRef, "join_ref"), field(ref, "ref"), field(topic, "topic"), field(status, "status")], response);
    }
    return Frame.text(JSON.stringify([joinRef, ref, topic, "phx_reply", { status, response }]));
  },
};
