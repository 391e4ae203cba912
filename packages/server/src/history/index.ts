/** History: stream positions, the store interface and the in-memory store (docs/recovery.md). */
export { formatPosition, parsePosition, newEpoch, type Publication, type StreamPosition } from "./position.js";
export { defaultStreamLimits, type HistoryRead, type HistoryStore, type StreamLimits } from "./store.js";
export { MemoryHistory, type MemoryHistoryOptions } from "./memory.js";
export { TopicPatterns } from "./patterns.js";
export { SinceReads } from "./read-batch.js";
