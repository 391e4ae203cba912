/**
 * The presence payloads (docs/protocol.md §6.1): `presence_state` carries a `PresenceState`,
 * `presence_diff` a `PresenceDiff`; each key's presence holds its metas, every one marked with the
 * `phx_ref` the server gave it.
 */

/** The fields the server adds to every meta it tracks. */
export interface PresenceMetaFields {
  /** A unique ref of this meta. */
  phx_ref: string;
  /** After an update, the ref of the meta it replaced. */
  phx_ref_prev?: string;
}

/** One meta of a presence: the user's meta (`M`) plus `phx_ref`. */
export type PresenceMeta<M = Record<string, unknown>> = M & PresenceMetaFields;

/** One key's presence: its metas, plus whatever fields the server's `fetch` added. */
export interface PresenceEntry<M = Record<string, unknown>> {
  metas: Array<PresenceMeta<M>>;
  [field: string]: unknown;
}

/** Presences by key: the payload of `presence_state`, and each side of a `presence_diff`. */
export type PresenceState<M = Record<string, unknown>> = Record<string, PresenceEntry<M>>;

/** A `presence_diff` payload. */
export interface PresenceDiff<M = Record<string, unknown>> {
  joins: PresenceState<M>;
  leaves: PresenceState<M>;
}

/** A `presence_online_state` payload: the keys online on the topic (metas present, or within the leave grace). */
export interface PresenceOnlineState {
  keys: string[];
}

/** A `presence_online` or `presence_offline` payload: the key that came online or went offline. */
export interface PresenceOnlineChange {
  key: string;
}

/** The event a big room's presence pushes with its counts (docs/presence.md "Big rooms"). */
export const PRESENCE_COUNT_EVENT = "presence_count";

/**
 * A `presence_count` payload: how many distinct keys (users) and metas (connections) the topic
 * holds across the cluster, and the topic's mode. In `"count"` mode `presence_state` and
 * `presence_diff` carry a capped sample of the metas, not the full list; `"list"` (sent once,
 * when a room leaves count mode) means the full list follows and counts are the list's again.
 */
export interface PresenceCount {
  users: number;
  connections: number;
  mode: "count" | "list";
}
