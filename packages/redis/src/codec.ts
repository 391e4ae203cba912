/**
 * The wire encoding of broadcasts between nodes: a JSON array
 * `[version, originNode, topic, event, kind, payload]`, where kind 0 carries a JSON payload
 * inline and kind 1 a binary payload as base64. Compact, versioned, and validated on the way in.
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

/** Encodes a broadcast from `origin`. */
export function encodeEnvelope(origin: string, message: RemoteBroadcast): string {
  const { topic, event, payload } = message;
  if (payload instanceof Uint8Array) {
    return JSON.stringify([ENVELOPE_VERSION, origin, topic, event, KIND_BINARY, Buffer.from(payload).toString("base64")]);
  }
  return JSON.stringify([ENVELOPE_VERSION, origin, topic, event, KIND_JSON, payload ?? null]);
}

/** Decodes an envelope; throws on anything malformed or of another version. */
export function decodeEnvelope(text: string): Envelope {
  const value: unknown = JSON.parse(text);
  if (!Array.isArray(value) || value.length !== 6) throw new Error("envelope must be a 6-element array");
  const [version, origin, topic, event, kind, payload] = value as unknown[];
  if (version !== ENVELOPE_VERSION) throw new Error(`unsupported envelope version ${String(version)}`);
  if (typeof origin !== "string" || typeof topic !== "string" || typeof event !== "string") {
    throw new Error("envelope origin, topic and event must be strings");
  }
  if (kind === KIND_BINARY) {
    if (typeof payload !== "string") throw new Error("binary payload must be base64");
    return { origin, message: { topic, event, payload: new Uint8Array(Buffer.from(payload, "base64")) } };
  }
  if (kind !== KIND_JSON) throw new Error(`unknown payload kind ${String(kind)}`);
  return { origin, message: { topic, event, payload } };
}
