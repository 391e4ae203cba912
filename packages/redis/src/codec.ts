/**
 * The wire encoding of broadcasts between nodes: a JSON array
 * `[version, originNode, topic, event, kind, payload]`, where kind 0 carries a JSON payload
 * inline and kind 1 a binary payload as base64. Compact, versioned, and validated on the way in.
 *
 * Publications on stream topics travel as `[2, epoch, offset, exclude, topic, event, kind,
 * payload]`: built by `RedisHistory`'s append script, delivered by every node (the origin too,
 * which skips the subscriber named by the `exclude` tag, or null).
 */
import type { RemoteBroadcast } from "@cinder/server";

/** The current envelope version. */
export const ENVELOPE_VERSION = 1;

const KIND_JSON = 0;
const KIND_BINARY = 1;

/** A decoded envelope: the broadcast and the node that sent it. */
export interface Envelope {
  origin: string;
  message: RemoteBroadcast;
}

/** The envelope version of a publication on a stream topic. */
export const STREAM_ENVELOPE_VERSION = 2;

/** Encodes a broadcast from `origin`. */
export function encodeEnvelope(origin: string, message: RemoteBroadcast): string {
  return `[${ENVELOPE_VERSION},${JSON.stringify(origin)},${encodeTail(message.topic, message.event, message.payload)}]`;
}

/** The `topic, event, kind, payload` items shared by both envelope versions, as JSON array items. */
export function encodeTail(topic: string, event: string, payload: unknown): string {
  const body = payload instanceof Uint8Array
    ? JSON.stringify([topic, event, KIND_BINARY, Buffer.from(payload).toString("base64")])
    : JSON.stringify([topic, event, KIND_JSON, payload ?? null]);
  return body.slice(1, -1);
}

function decodePayload(kind: unknown, payload: unknown): unknown {
  if (kind === KIND_BINARY) {
    if (typeof payload !== "string") throw new Error("binary payload must be base64");
    return new Uint8Array(Buffer.from(payload, "base64"));
  }
  if (kind !== KIND_JSON) throw new Error(`unknown payload kind ${String(kind)}`);
  return payload;
}

/** Decodes an envelope; throws on anything malformed or of another version. */
export function decodeEnvelope(text: string): Envelope {
  const value: unknown = JSON.parse(text);
  if (Array.isArray(value) && value[0] === STREAM_ENVELOPE_VERSION) return decodeStreamEnvelope(value);
  if (!Array.isArray(value) || value.length !== 6) throw new Error("envelope must be a 6-element array");
  const [version, origin, topic, event, kind, payload] = value as unknown[];
  if (version !== ENVELOPE_VERSION) throw new Error(`unsupported envelope version ${String(version)}`);
  if (typeof origin !== "string" || typeof topic !== "string" || typeof event !== "string") {
    throw new Error("envelope origin, topic and event must be strings");
  }
  return { origin, message: { topic, event, payload: decodePayload(kind, payload) } };
}

/** Decodes a stream publication's envelope (origin "": every node delivers it). */
function decodeStreamEnvelope(value: unknown[]): Envelope {
  if (value.length !== 8) throw new Error("stream envelope must be an 8-element array");
  const [, epoch, offset, exclude, topic, event, kind, payload] = value;
  if (typeof epoch !== "string" || typeof offset !== "number" || !Number.isSafeInteger(offset) || offset < 1) {
    throw new Error("stream envelope epoch and offset are malformed");
  }
  if (exclude !== null && typeof exclude !== "string") throw new Error("stream envelope exclude must be a string or null");
  if (typeof topic !== "string" || typeof event !== "string") throw new Error("envelope topic and event must be strings");
  const message = { topic, event, payload: decodePayload(kind, payload), position: { epoch, offset } };
  return { origin: "", message: exclude === null ? message : { ...message, exclude } };
}
