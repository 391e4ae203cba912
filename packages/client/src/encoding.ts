/**
 * Byte helpers of the client: UTF-8 and base64 are `@cinder/protocol`'s; what is the client's own
 * is accepting every binary form a browser or Node hands over (`ArrayBuffer`, views, Buffers).
 */
export { base64ToBytes, bytesToBase64, utf8Decode, utf8Encode } from "@cinder/protocol";

/** True for an `ArrayBuffer` (also one from another realm, e.g. a browser frame). */
export function isArrayBuffer(value: unknown): value is ArrayBuffer {
  return value instanceof ArrayBuffer || Object.prototype.toString.call(value) === "[object ArrayBuffer]";
}

/** True for a payload sent as a binary frame: an `ArrayBuffer` or a view of one (`Uint8Array`...). */
export function isBinaryPayload(value: unknown): value is ArrayBuffer | ArrayBufferView {
  return isArrayBuffer(value) || ArrayBuffer.isView(value);
}

/** The bytes of an `ArrayBuffer` or a view (no copy). */
export function bytesOf(value: ArrayBuffer | ArrayBufferView): Uint8Array {
  return isArrayBuffer(value) ? new Uint8Array(value) : new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
}

/** Incoming binary data as an exact `ArrayBuffer` (transports may hand over views or Node Buffers), or null. */
export function toArrayBuffer(data: unknown): ArrayBuffer | null {
  if (isArrayBuffer(data)) return data;
  if (ArrayBuffer.isView(data)) return exactCopy(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  return null;
}

/** A fresh `ArrayBuffer` holding exactly `bytes`. */
export function exactCopy(bytes: Uint8Array): ArrayBuffer {
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return copy.buffer;
}
