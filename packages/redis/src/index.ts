/** `@cinder/redis`: a Redis PubSub adapter joining Cinder nodes into a cluster. */
export { RedisAdapter, type RedisAdapterOptions, type RedisAdapterStats, type RedisRouting } from "./adapter.js";
export { encodeEnvelope, decodeEnvelope, ENVELOPE_VERSION, STREAM_ENVELOPE_VERSION, type Envelope } from "./codec.js";
export { RedisHistory, type RedisHistoryLink } from "./history.js";
export { hashSlot } from "./slot.js";
export type { RouteStats } from "./routes.js";
export { redisOptionsFromEnv, type RedisEnvOptions } from "./env.js";
