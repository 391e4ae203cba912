/**
 * `Presence`: the client side of presence (docs/protocol.md §6.3). It keeps the presence state of a
 * channel from `presence_state` pushes and `presence_diff` broadcasts; diffs arriving before the
 * first state of the current join (after a rejoin too: state is keyed by join_ref) are held and
 * replayed once the fresh state arrives. `onJoin`/`onLeave` report changes per key, `onSync`
 * fires after every applied state or diff. In a big room (docs/presence.md "Big rooms") the
 * server sends `presence_count` and the state holds a capped sample; `count()` and `onCount` give
 * the room's users and connections in either mode. State objects have no prototype, so keys such
 * as `__proto__` are safe.
 *
 * User-level online/offline (docs/presence.md "Online and offline"): when the server's channel
 * opted this join in (`presence.subscribeOnline`), `online()` holds the keys online on the topic
 * — a key stays online through a reload or a move to another node within the server's leave
 * grace — and `onOnline` / `onOffline` report a key's first join and last leave. The keys online
 * when the channel joins are not reported as news; after a rejoin, the keys that came online
 * meanwhile are (those that went are dropped without `onOffline`: the node may still be
 * syncing). `onSync` fires after each of these changes too.
 */
import {
  ONLINE_EVENTS, PRESENCE_COUNT_EVENT, PRESENCE_EVENTS, type PresenceCount, type PresenceDiff, type PresenceEntry,
  type PresenceMeta, type PresenceOnlineChange, type PresenceOnlineState, type PresenceState,
} from "@cinder/protocol";
import type { Channel } from "./channel.js";
import type { AnyContract, ChannelContract, MetaOf } from "./contract.js";

/** The presence payloads: the protocol's model. */
export type {
  PresenceCount, PresenceDiff, PresenceEntry, PresenceMeta, PresenceMetaFields, PresenceOnlineChange, PresenceOnlineState,
  PresenceState,
} from "@cinder/protocol";

/** `onOnline(key)` / `onOffline(key)`: a key's first join, or its last leave past the server's grace. */
export type PresenceOnlineCallback = (key: string) => void;

/** `onJoin(key, current, joined)`: `current` is undefined for a key new to the state. */
export type PresenceJoinCallback<M = Record<string, unknown>> =
  (key: string, current: PresenceEntry<M> | undefined, joined: PresenceEntry<M>) => void;

/** `onLeave(key, current, left)`: `current` holds the metas that remain (possibly none). */
export type PresenceLeaveCallback<M = Record<string, unknown>> =
  (key: string, current: PresenceEntry<M>, left: PresenceEntry<M>) => void;

/** Presence options: the event names carrying state and diffs (and counts, default `presence_count`). */
export interface PresenceOptions {
  events?: { state: string; diff: string; count?: string };
}

function isCount(value: unknown): value is PresenceCount {
  return isObject(value) && Number.isSafeInteger(value.users) && Number.isSafeInteger(value.connections)
    && (value.mode === "count" || value.mode === "list");
}

const hasOwn = (obj: object, key: string): boolean => Object.prototype.hasOwnProperty.call(obj, key);

function clone<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

function nullProto<T extends object>(obj: T): T {
  if (Object.getPrototypeOf(obj) === null) return obj;
  const out = Object.create(null) as T;
  for (const key of Object.getOwnPropertyNames(obj)) (out as Record<string, unknown>)[key] = (obj as Record<string, unknown>)[key];
  return out;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Presence state of a channel. `C` (the channel's contract) types the metas from its `meta` schema. */
export class Presence<C extends ChannelContract = AnyContract> {
  /** The current presences by key. */
  state: PresenceState<MetaOf<C>> = Object.create(null) as PresenceState<MetaOf<C>>;
  /** Diffs held until the state of the current join arrives. */
  pendingDiffs: Array<PresenceDiff<MetaOf<C>>> = [];
  /** The channel join_ref under which the last `presence_state` was received. */
  joinRef: string | null = null;
  /** The channel. */
  readonly channel: Channel<C>;
  #onJoin: PresenceJoinCallback<MetaOf<C>> = () => undefined;
  #onLeave: PresenceLeaveCallback<MetaOf<C>> = () => undefined;
  #onSync: () => void = () => undefined;
  #online = new Set<string>();
  /** The join_ref of the last `presence_online_state` (a later one under the same join corrects it). */
  #onlineJoinRef: string | null = null;
  #onOnline: PresenceOnlineCallback = () => undefined;
  #onOffline: PresenceOnlineCallback = () => undefined;
  #onCount: (count: PresenceCount) => void = () => undefined;
  /** The last `presence_count` and the join_ref it came under (a rejoin forgets it). */
  #count: { count: PresenceCount; joinRef: string | null } | undefined;

  constructor(channel: Channel<C>, opts: PresenceOptions = {}) {
    const events: NonNullable<PresenceOptions["events"]> = opts.events ?? PRESENCE_EVENTS;
    this.channel = channel;
    channel.listen(events.count ?? PRESENCE_COUNT_EVENT, (payload) => {
      if (!isCount(payload)) return;
      this.#count = { count: { users: payload.users, connections: payload.connections, mode: payload.mode }, joinRef: this.channel.joinRef() };
      // Leaving count mode: the full list follows, and the sync after it reports the list's counts
      // (reporting now would count the old sample).
      if (payload.mode === "count") this.#onCount(this.count());
    });
    channel.listen(events.state, (payload) => {
      if (!isObject(payload)) return;
      this.joinRef = this.channel.joinRef();
      this.state = Presence.syncState(this.state, payload as PresenceState<MetaOf<C>>, this.#onJoin, this.#onLeave);
      const pending = this.pendingDiffs;
      this.pendingDiffs = [];
      for (const diff of pending) this.state = Presence.syncDiff(this.state, diff, this.#onJoin, this.#onLeave);
      this.#synced();
    });
    channel.listen(events.diff, (payload) => {
      if (!isObject(payload)) return;
      const diff = payload as unknown as PresenceDiff<MetaOf<C>>;
      if (this.inPendingSyncState()) {
        this.pendingDiffs.push(diff);
      } else {
        this.state = Presence.syncDiff(this.state, diff, this.#onJoin, this.#onLeave);
        this.#synced();
      }
    });
    channel.listen(ONLINE_EVENTS.state, (payload) => {
      const keys = isObject(payload) && Array.isArray(payload.keys) ? (payload as unknown as PresenceOnlineState).keys : undefined;
      if (keys === undefined) return;
      const next = new Set(keys.filter((key): key is string => typeof key === "string"));
      const previous = this.#online;
      // The first state of a rejoin reports who came online meanwhile; not who is missing: a
      // node still syncing may not know them yet, and its corrected state (same join) follows.
      const rejoin = this.#onlineJoinRef !== null && this.#onlineJoinRef !== this.channel.joinRef();
      this.#online = next;
      this.#onlineJoinRef = this.channel.joinRef();
      if (rejoin) for (const key of next) if (!previous.has(key)) this.#onOnline(key);
      this.#onSync();
    });
    channel.listen(ONLINE_EVENTS.online, (payload) => this.#change(payload, true));
    channel.listen(ONLINE_EVENTS.offline, (payload) => this.#change(payload, false));
  }

  #change(payload: unknown, online: boolean): void {
    const key = isObject(payload) ? (payload as unknown as PresenceOnlineChange).key : undefined;
    if (typeof key !== "string" || this.#online.has(key) === online) return;
    if (online) this.#online.add(key);
    else this.#online.delete(key);
    (online ? this.#onOnline : this.#onOffline)(key);
    this.#onSync();
  }

  /** Sets the callback for a key coming online (its first meta on any node; needs the server's opt-in). */
  onOnline(callback: PresenceOnlineCallback): void {
    this.#onOnline = callback;
  }

  /** Sets the callback for a key going offline (no meta on any node for the server's leave grace). */
  onOffline(callback: PresenceOnlineCallback): void {
    this.#onOffline = callback;
  }

  /** The keys online on the topic (empty until the server sent `presence_online_state`). */
  online(): string[] {
    return [...this.#online];
  }

  /** True while `key` is online on the topic. */
  isOnline(key: string): boolean {
    return this.#online.has(key);
  }

  /** Sets the callback for keys joining (or gaining metas). */
  onJoin(callback: PresenceJoinCallback<MetaOf<C>>): void {
    this.#onJoin = callback;
  }

  /** Sets the callback for keys leaving (or losing metas). */
  onLeave(callback: PresenceLeaveCallback<MetaOf<C>>): void {
    this.#onLeave = callback;
  }

  /** Sets the callback run after every applied state or diff. */
  onSync(callback: () => void): void {
    this.#onSync = callback;
  }

  /**
   * Sets the callback for the room's counts: on every `presence_count` (count mode), and after
   * every applied state or diff in list mode.
   */
  onCount(callback: (count: PresenceCount) => void): void {
    this.#onCount = callback;
  }

  /**
   * The room's users (distinct keys) and connections (metas), cluster-wide. In count mode (a big
   * room: `state` holds a sample) they are the server's last `presence_count`; otherwise they are
   * counted from `state`.
   */
  count(): PresenceCount {
    if (this.sampled) return { ...this.#count!.count };
    const keys = Object.getOwnPropertyNames(this.state);
    let connections = 0;
    for (const key of keys) connections += this.state[key]?.metas.length ?? 0;
    return { users: keys.length, connections, mode: "list" };
  }

  /** True when the room is in count mode: `state` and `list()` hold a capped sample, not everyone. */
  get sampled(): boolean {
    return this.#count !== undefined && this.#count.count.mode === "count" && this.#count.joinRef === this.channel.joinRef();
  }

  /** The presences as a list, or `chooser(key, presence)` of each. */
  list(): Array<PresenceEntry<MetaOf<C>>>;
  list<T>(chooser: (key: string, presence: PresenceEntry<MetaOf<C>>) => T): T[];
  list<T>(chooser?: (key: string, presence: PresenceEntry<MetaOf<C>>) => T): Array<T | PresenceEntry<MetaOf<C>>> {
    return chooser === undefined ? Presence.list(this.state) : Presence.list(this.state, chooser);
  }

  #synced(): void {
    this.#onSync();
    if (!this.sampled) this.#onCount(this.count());
  }

  /** True while diffs are held: no state yet for the channel's current join. */
  inPendingSyncState(): boolean {
    return !this.joinRef || this.joinRef !== this.channel.joinRef();
  }

  /**
   * Applies a full state to `current`: keys and metas (by `phx_ref`) absent from `next` leave,
   * new ones join. Returns the new state (the inputs are not modified).
   */
  static syncState<M>(current: PresenceState<M>, next: PresenceState<M>,
    onJoin?: PresenceJoinCallback<M>, onLeave?: PresenceLeaveCallback<M>): PresenceState<M> {
    const state = nullProto(clone(current));
    const incoming = nullProto(clone(next));
    const joins = Object.create(null) as PresenceState<M>;
    const leaves = Object.create(null) as PresenceState<M>;
    for (const key of Object.getOwnPropertyNames(state)) {
      if (!hasOwn(incoming, key)) leaves[key] = state[key] as PresenceEntry<M>;
    }
    for (const key of Object.getOwnPropertyNames(incoming)) {
      const nextEntry = incoming[key] as PresenceEntry<M>;
      const currentEntry = state[key];
      if (currentEntry === undefined) {
        joins[key] = nextEntry;
        continue;
      }
      const nextRefs = new Set(nextEntry.metas.map((m) => m.phx_ref));
      const currentRefs = new Set(currentEntry.metas.map((m) => m.phx_ref));
      const joined = nextEntry.metas.filter((m) => !currentRefs.has(m.phx_ref));
      const left = currentEntry.metas.filter((m) => !nextRefs.has(m.phx_ref));
      if (joined.length > 0) joins[key] = { ...nextEntry, metas: joined };
      if (left.length > 0) leaves[key] = { ...clone(currentEntry), metas: left };
    }
    return Presence.syncDiff(state, { joins, leaves }, onJoin, onLeave);
  }

  /**
   * Applies a diff: joins first (metas already known by `phx_ref` are kept, before the new
   * ones), then leaves (metas removed by `phx_ref`; a key without metas is deleted). Applying a
   * diff twice is harmless. Returns the state (a null-prototype object).
   */
  static syncDiff<M>(state: PresenceState<M>, diff: PresenceDiff<M>,
    onJoin?: PresenceJoinCallback<M>, onLeave?: PresenceLeaveCallback<M>): PresenceState<M> {
    const result = nullProto(state);
    const { joins = {}, leaves = {} } = clone(diff) as Partial<PresenceDiff<M>>;
    for (const key of Object.getOwnPropertyNames(joins)) {
      const joined = joins[key] as PresenceEntry<M>;
      const currentEntry = result[key];
      const entry = clone(joined);
      if (currentEntry !== undefined) {
        const joinedRefs = new Set(entry.metas.map((m) => m.phx_ref));
        entry.metas.unshift(...currentEntry.metas.filter((m) => !joinedRefs.has(m.phx_ref)));
      }
      result[key] = entry;
      onJoin?.(key, currentEntry, joined);
    }
    for (const key of Object.getOwnPropertyNames(leaves)) {
      const left = leaves[key] as PresenceEntry<M>;
      const currentEntry = result[key];
      if (currentEntry === undefined) continue;
      const refs = new Set(left.metas.map((m) => m.phx_ref));
      currentEntry.metas = currentEntry.metas.filter((m) => !refs.has(m.phx_ref));
      onLeave?.(key, currentEntry, left);
      if (currentEntry.metas.length === 0) delete result[key];
    }
    return result;
  }

  /** The presences as a list, or `chooser(key, presence)` of each (in key order). */
  static list<M>(presences: PresenceState<M>): Array<PresenceEntry<M>>;
  static list<M, T>(presences: PresenceState<M>, chooser: (key: string, presence: PresenceEntry<M>) => T): T[];
  static list<M, T>(presences: PresenceState<M>, chooser?: (key: string, presence: PresenceEntry<M>) => T): Array<T | PresenceEntry<M>> {
    return Object.getOwnPropertyNames(presences).map((key) => {
      const presence = presences[key] as PresenceEntry<M>;
      return chooser === undefined ? presence : chooser(key, presence);
    });
  }
}
