/** The presence layer: the tracker CRDT, its replica loop, and the Presence API on top. */
export { Presence, PresenceError, createPresence, type PresenceDiff, type PresenceEntry, type PresenceMap, type PresenceOptions, type PresenceOwner, type PresenceTarget } from "./presence.js";
export { defaultBigRoom, nextMode, nextUpdateDelay, resolveBigRoom, RoomSample, type BigRoomOptions, type BigRoomPolicy, type BigRoomResult, type PresenceMode } from "./big-room.js";
export { Tracker, defaultTiming, type TrackerOptions, type TrackerReads, type TrackerTiming } from "./tracker.js";
export { TrackerState, type Diff, type Entry, type Meta } from "./state.js";
export { OnlineState, type OnlineEvent } from "./online.js";
export type { OnlineHooks, OnlineSubscriber } from "./online-events.js";
