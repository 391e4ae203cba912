/**
 * @cinder/protocol: the Phoenix Channels wire protocol, one model for the server and the client,
 * on `Uint8Array` and web APIs only, so it runs in browsers and Node.js alike.
 *
 * ```ts
 * import { V2, V2Client, CHANNEL_EVENTS } from "@cinder/protocol";
 * const frame = V2.fastlane({ topic: "room:1", event: "new_msg", payload: { body: "hi" } });
 * V2Client.decode(frame); // { join_ref: null, ref: null, topic: "room:1", event: "new_msg", payload: {...} }
 * ```
 */
export * from "./message.js";
export * from "./events.js";
export * from "./codec.js";
export { V1 } from "./v1.js";
export { V2, V2Client, decodeV2Text, encodeV2Text } from "./v2.js";
export { BINARY_KIND, encodeBinary, decodeClientBinary, decodeServerBinary, type BinaryFrame } from "./binary.js";
export * from "./params.js";
export * from "./longpoll.js";
export * from "./presence.js";
export * from "./stream.js";
export * from "./bytes.js";
