/** Byte helpers shared by the serializer and the long-poll transport: UTF-8, base64, buffers. */

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** UTF-8 bytes of a string. */
export function utf8Encode(text: string): Uint8Array {
  return encoder.encode(text);
}

/** The string of UTF-8 bytes. */
export function utf8Decode(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}

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
  if (ArrayBuffer.isView(data)) {
    const copy = new Uint8Array(data.byteLength);
    copy.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    return copy.buffer;
  }
  return null;
}

/** Standard base64 (with padding) of bytes. */
export function bytesToBase64(bytes: Uint8Array): string {
  let binary = "";
  const chunk = 0x8000;
  for (let i = 0; i < bytes.length; i += chunk) {
    binary += String.fromCharCode(...bytes.subarray(i, i + chunk));
  }
  return btoa(binary);
}

/** Bytes of standard base64 (padding optional). */
export function base64ToBytes(text: string): Uint8Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i += 1) bytes[i] = binary.charCodeAt(i);
  return bytes;
}
