/**
 * Presence: who is on each topic, replicated across nodes by the tracker CRDT, with Phoenix's
 * wire format. `track(socket, key, meta)` adds a meta under a key (one key may hold many metas:
 * one per tab or device), `update` replaces it (new `phx_ref`, `phx_ref_prev` = the old one),
 * `untrack` removes it; whatever a channel tracked leaves when the channel ends, whatever the
 * reason. Every change goes out as a `presence_diff` broadcast `{joins, leaves}` to this node's
 * subscribers of the topic (each node computes its own diffs from what it merges), after the
 * `fetch` hook decorated both sides; changes to one topic within `diffWindowMs` go out as one
 * diff. `list(topic)` is what a channel pushes as `presence_state`. On top of the metas, each
 * node tells when a key comes online (its first meta anywhere) and goes offline (no meta
 * anywhere for `leaveGraceMs`): the `onOnline` / `onOffline` hooks, and `presence_online` /
 * `presence_offline` pushes to the channels that called `subscribeOnline` (`online-events.ts`,
 * docs/presence.md).
 */
import { PRESENCE_EVENTS, type PresenceCount } from "@cinder/protocol";
import type * as protocol from "@cinder/protocol";
import { createLogger, type Logger } from "../logger.js";
import type { PubSub } from "../pubsub/index.js";
import type { EncodedJson } from "../serializer/index.js";
import { resolveBigRoom, type BigRoomOptions, type BigRoomPolicy } from "./big-room.js";
import { BigRooms } from "./big-rooms.js";
import { DiffWindow, type PendingDiff } from "./diff-window.js";
import { newRef, stampMeta, userFields } from "./meta.js";
import { OnlineEvents, type OnlineHooks, type OnlineSubscriber } from "./online-events.js";
import { StateCache } from "./state-cache.js";
import type { Meta } from "./state.js";
import { LazyList } from "./lazy-list.js";
import { Tracker, type TrackerReads, type TrackerTiming } from "./tracker.js";

/** One key's presence: its metas (each with `phx_ref`) plus whatever `fetch` added (the protocol's model). */
export type PresenceEntry<M extends Meta = Meta> = protocol.PresenceEntry<M>;

/** Presences by key, as `presence_state` and each side of `presence_diff` carry them. */
export type PresenceMap<M extends Meta = Meta> = protocol.PresenceState<M>;

/** A `presence_diff` payload (the protocol's model). */
export type PresenceDiff<M extends Meta = Meta> = protocol.PresenceDiff<M>;

/** Something that can own tracked presences and tells when it ends (a channel's socket is one). */
export interface PresenceOwner {
  readonly topic: string;
  readonly ownerId: string;
  onExit(callback: () => void): unknown;
}

/**
 * Who tracks, on which topic: a channel socket (what it tracked leaves when it ends), or any
 * `{ownerId, topic}` (untrack it yourself, or with `untrackAll(ownerId)`).
 */
export type PresenceTarget = PresenceOwner | { readonly ownerId: string; readonly topic: string };

/** Thrown by `track` / `update` / `untrack` when the presence state refuses the operation. */
export class PresenceError extends Error {
  override readonly name = "PresenceError";
  constructor(readonly reason: "already_tracked" | "nopresence" | "invalid_meta" | "meta_too_large", message: string) {
    super(message);
  }
}

/** Options of a `Presence`. */
export interface PresenceOptions extends Partial<TrackerTiming>, OnlineHooks {
  /** The PubSub to gossip and broadcast on (the endpoint's). */
  pubsub: PubSub;
  /** The tracker name; every node of a cluster must use the same one. Default "presence". */
  name?: string;
  /** Decorates presences (in lists and on both sides of every diff) before they are sent. */
  fetch?(topic: string, presences: PresenceMap): PresenceMap | Promise<PresenceMap>;
  /**
   * Called on this node after each diff went out, with the topic's current key → metas (built at
   * its first read, from the state then: a hook that does not read it costs no O(members) copy).
   */
  handleMetas?(topic: string, diff: PresenceDiff, presences: ReadonlyMap<string, readonly Meta[]>): void | Promise<void>;
  /** Diffs of one topic within this window go out as one (0–100 ms). Default 25. */
  diffWindowMs?: number;
  /**
   * While broadcasting diffs is costly (topics with thousands of subscribers), the window
   * stretches to 10× the time the last window's broadcasts took, up to this many ms, so the
   * diff fan-out keeps to about a tenth of the process. `diffWindowMs` or less: never stretch. Default 1 000.
   */
  maxDiffWindowMs?: number;
  /** Largest meta, in bytes of JSON; larger ones are refused (`meta_too_large`). Default 4 096. */
  maxMetaSize?: number;
  /**
   * Count mode for rooms too big for a roster (docs/presence.md "Big rooms"): one policy for every
   * topic, or a function giving each topic's (undefined: none). Default: no topic has one.
   */
  bigRoom?: BigRoomOptions | ((topic: string) => BigRoomOptions | undefined);
  /** Logger; default the built-in one. */
  logger?: Logger;
}

function nullObject<T>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}

/** Groups metas by key (first-seen order): the one grouping of presences into a map. */
function groupByKey(entries: Iterable<{ readonly key: string; readonly meta: Meta }>): PresenceMap {
  const map = nullObject<PresenceEntry>();
  for (const { key, meta } of entries) {
    const stored = meta as PresenceEntry["metas"][number];
    const existing = map[key];
    if (existing === undefined) map[key] = { metas: [stored] };
    else existing.metas.push(stored);
  }
  return map;
}

/** Presence tracking for one endpoint (one replica of the cluster-wide tracker). */
export class Presence {
  private readonly tracker: Tracker;
  private readonly state: TrackerReads;
  private readonly logger: Logger;
  private readonly maxMetaSize: number;
  private readonly window: DiffWindow;
  private readonly watched = new Set<string>();
  private readonly states: StateCache;
  private readonly online: OnlineEvents;
  private readonly rooms: BigRooms;
  private readonly policyFor: (topic: string) => BigRoomPolicy | undefined;
  private queue: Promise<void> = Promise.resolve();
  private readonly maxWindowMs: number;

  constructor(private readonly options: PresenceOptions) {
    this.logger = options.logger ?? createLogger({ name: "presence" });
    this.maxMetaSize = options.maxMetaSize ?? 4096;
    this.maxWindowMs = options.maxDiffWindowMs ?? 1000;
    if (!Number.isFinite(this.maxWindowMs) || this.maxWindowMs < 0) {
      throw new RangeError(`maxDiffWindowMs must be a finite number of ms ≥ 0, not ${String(options.maxDiffWindowMs)}`);
    }
    this.window = new DiffWindow(options.diffWindowMs ?? 25, (batch) => this.send(batch));
    this.online = new OnlineEvents(options, this.logger);
    this.tracker = new Tracker({
      ...options, name: options.name ?? "presence", logger: this.logger,
      onDiff: (diff, bootstrap) => {
        this.states.invalidate(diff);
        this.window.add(diff);
        this.online.observe(diff, bootstrap, this.state);
      },
    });
    this.state = this.tracker.reads;
    this.states = new StateCache({
      keys: (topic) => this.state.keys(topic),
      countKeys: (topic) => this.state.countKeys(topic),
      decorate: (topic, keys) => this.decorate(topic, groupByKey(keys.flatMap((key) => this.state.entries(topic, key)))),
    });
    this.policyFor = this.bigRoomPolicies(options.bigRoom);
    this.rooms = new BigRooms({
      policy: this.policyFor,
      counts: (topic) => ({ users: this.state.countKeys(topic), connections: this.state.countMetas(topic) }),
      entries: (topic) => this.state.entries(topic),
      decorate: (topic, entries) => this.decorate(topic, groupByKey(entries)),
      fullList: (topic) => this.list(topic),
      broadcast: (topic, event, payload) => this.options.pubsub.localBroadcast(topic, event, payload),
      run: (task) => { this.queue = this.queue.then(task).catch((error: unknown) => this.logger.error({ err: error }, "presence: count update failed")); },
      logger: this.logger,
    });
    this.tracker.start();
  }

  /**
   * Tracks `key` with `meta` on the target's topic; returns the new `phx_ref`. A channel socket's
   * presences leave when it ends. Throws `PresenceError` (`already_tracked`, `invalid_meta`,
   * `meta_too_large`).
   */
  track(target: PresenceTarget, key: string, meta: Meta = {}): string {
    const ref = newRef();
    const stored = this.stamp(meta, ref);
    if (!this.tracker.track(target.ownerId, target.topic, String(key), stored).ok) {
      throw new PresenceError("already_tracked", `"${key}" is already tracked on "${target.topic}" by this owner`);
    }
    if ("onExit" in target) this.watch(target);
    return ref;
  }

  /**
   * Replaces the meta of `key` on the target's topic (or computes it from the old one's fields);
   * returns the new `phx_ref` (the new meta's `phx_ref_prev` is the old one). Throws
   * `PresenceError` (`nopresence` when the target does not track `key`).
   */
  update(target: PresenceTarget, key: string, meta: Meta | ((old: Meta) => Meta)): string {
    const old = this.state.getLocal(target.ownerId, target.topic, String(key));
    if (old === undefined) throw new PresenceError("nopresence", `"${key}" is not tracked on "${target.topic}" by this owner`);
    const { fields, ref: previous } = userFields(old);
    const ref = newRef();
    const stored = this.stamp(typeof meta === "function" ? meta(fields) : meta, ref, previous);
    this.tracker.update(target.ownerId, target.topic, String(key), stored);
    return ref;
  }

  /** Stops tracking `key` on the target's topic; returns false when it was not tracked. */
  untrack(target: PresenceTarget, key: string): boolean {
    return this.tracker.untrack(target.ownerId, target.topic, String(key));
  }

  /** Stops tracking everything an owner tracked, on every topic. */
  untrackAll(ownerId: string): void {
    this.tracker.untrackAll(ownerId);
  }

  /** True when the target tracks `key` on its topic (on this node). */
  isTracked(target: PresenceTarget, key: string): boolean {
    return this.state.getLocal(target.ownerId, target.topic, String(key)) !== undefined;
  }

  /** The presences of `topic` (what `presence_state` carries), decorated by `fetch`. */
  async list(topic: string): Promise<PresenceMap> {
    return this.decorate(topic, groupByKey(this.state.entries(topic)));
  }

  /**
   * The presences of `topic` encoded once per change: the same bytes for every caller until the
   * topic changes (docs/presence.md "presence_state once per change"). Push it as the payload:
   * `socket.push("presence_state", await presence.encodedList(topic))`, or use `pushState`.
   */
  encodedList(topic: string): Promise<EncodedJson> {
    return this.states.encoded(topic);
  }

  /**
   * Pushes the topic's `presence_state` (the cached encoded list) to a channel's client; in count
   * mode, `presence_count` and then the sample as last sent (docs/presence.md "Big rooms").
   */
  async pushState(socket: { readonly topic: string; push(event: string, payload: unknown): void }): Promise<void> {
    if (this.rooms.pushTo(socket)) return;
    socket.push("presence_state", await this.states.encoded(socket.topic));
  }

  /**
   * Drops the cached encoded list of `topic` (or of every topic): call it when what `fetch` adds
   * changed without a presence change, so the next `presence_state` is decorated afresh.
   */
  refreshList(topic?: string): void {
    if (topic === undefined) this.states.clear();
    else this.states.forget(topic);
  }

  /** One key's presence on `topic`, decorated by `fetch`, or undefined. */
  async getByKey(topic: string, key: string): Promise<PresenceEntry | undefined> {
    const entries = this.state.entries(topic, String(key));
    if (entries.length === 0) return undefined;
    return (await this.decorate(topic, groupByKey(entries)))[key];
  }

  /** Topics with presences on them. */
  topics(): string[] {
    return this.state.topics();
  }

  /** Distinct keys (users) present on `topic`. */
  countUsers(topic: string): number {
    return this.state.countKeys(topic);
  }

  /** Metas (connections) present on `topic`. */
  countConnections(topic: string): number {
    return this.state.countMetas(topic);
  }

  /** True while `key` is online on `topic`: it has a meta on some node, or its last one left within the grace. */
  isOnline(topic: string, key: string): boolean {
    return this.online.state.isOnline(topic, String(key));
  }

  /** The keys online on `topic` (metas present, or the last one left within the grace). */
  onlineKeys(topic: string): string[] {
    return this.online.state.online(topic);
  }

  /** How many keys are online on `topic` (a user count that does not dip on a reload). */
  countOnline(topic: string): number {
    return this.online.state.count(topic);
  }

  /**
   * Opts a channel in to its topic's online/offline events: pushes `presence_online_state`
   * `{keys}` now, then `presence_online` / `presence_offline` `{key}` as keys come and go, until
   * the channel ends. phoenix.js's `Presence` ignores these events.
   */
  subscribeOnline(socket: OnlineSubscriber): void {
    this.online.subscribe(socket);
  }

  /** The topic's users and connections (cluster-wide) and its mode on this node: what `presence_count` carries. */
  count(topic: string): PresenceCount {
    return this.rooms.count(topic);
  }

  /**
   * The tracker behind this presence (its replica loop and CRDT state), for tests and tools.
   * @internal
   */
  get replica(): Tracker {
    return this.tracker;
  }

  /** Resolves once every diff collected so far has been broadcast. */
  async flush(): Promise<void> {
    this.window.close();
    await this.queue;
  }

  /** Stops the tracker; with `graceful` (default) other nodes drop this node's members at once. */
  async close(graceful = true): Promise<void> {
    await this.flush();
    this.rooms.close();
    this.tracker.stop(graceful);
    this.online.close();
  }

  private stamp(meta: Meta, ref: string, previous?: string): Meta {
    const result = stampMeta(meta, ref, this.maxMetaSize, previous);
    if (result.ok) return result.meta;
    if (result.reason === "meta_too_large") this.logger.warn({ bytes: result.bytes, limit: this.maxMetaSize }, "presence meta refused: too large");
    throw new PresenceError(result.reason, result.message);
  }

  private watch(owner: PresenceOwner): void {
    if (this.watched.has(owner.ownerId)) return;
    this.watched.add(owner.ownerId);
    owner.onExit(() => {
      this.watched.delete(owner.ownerId);
      this.untrackAll(owner.ownerId);
    });
  }

  private send(batch: ReadonlyMap<string, PendingDiff>): void {
    this.queue = this.queue.then(async () => {
      let costMs = 0;
      for (const [topic, pending] of batch) {
        if (pending.joins.size === 0 && pending.leaves.size === 0) continue;
        try {
          if (await this.rooms.handle(topic, pending)) await this.reportMetas(topic, { joins: groupByKey(pending.joins.values()), leaves: groupByKey(pending.leaves.values()) });
          else costMs += await this.broadcastDiff(topic, pending);
        } catch (error) {
          this.logger.error({ err: error, topic }, "presence: diff could not be sent");
        }
      }
      this.window.stretch(Math.min(this.maxWindowMs, 10 * costMs));
    });
  }

  /** Broadcasts one topic's diff; resolves with the time the local fan-out took (ms). */
  private async broadcastDiff(topic: string, pending: PendingDiff): Promise<number> {
    const [joins, leaves] = await Promise.all([
      this.decorate(topic, groupByKey(pending.joins.values())),
      this.decorate(topic, groupByKey(pending.leaves.values())),
    ]);
    const diff: PresenceDiff = { joins, leaves };
    const started = performance.now();
    this.options.pubsub.localBroadcast(topic, PRESENCE_EVENTS.diff, diff);
    const costMs = performance.now() - started;
    await this.reportMetas(topic, diff);
    return costMs;
  }

  /** Calls `handleMetas` (in count mode with the undecorated diff: `fetch` runs for the sample only). */
  private async reportMetas(topic: string, diff: PresenceDiff): Promise<void> {
    if (this.options.handleMetas !== undefined) {
      try {
        await this.options.handleMetas(topic, diff, new LazyList(() => this.state.list(topic)));
      } catch (error) {
        this.logger.error({ err: error, topic }, "presence: handleMetas threw");
      }
    }
  }

  /** One resolver of each topic's big-room policy; a function's bad result is logged once and ignored. */
  private bigRoomPolicies(option: PresenceOptions["bigRoom"]): (topic: string) => BigRoomPolicy | undefined {
    if (option === undefined) return () => undefined;
    if (typeof option !== "function") {
      const result = resolveBigRoom(option);
      if (!result.ok) throw new TypeError(result.message);
      return () => result.policy;
    }
    const refused = new Set<string>();
    return (topic) => {
      const options = option(topic);
      if (options === undefined) return undefined;
      const result = resolveBigRoom(options);
      if (result.ok) return result.policy;
      if (!refused.has(result.message)) {
        refused.add(result.message);
        this.logger.error({ topic }, `presence: big-room policy ignored: ${result.message}`);
      }
      return undefined;
    };
  }

  private async decorate(topic: string, presences: PresenceMap): Promise<PresenceMap> {
    if (this.options.fetch === undefined) return presences;
    const keys = Object.keys(presences);
    if (keys.length === 0) return presences;
    const decorated = await this.options.fetch(topic, presences);
    // A hook that returns a new map is checked to have kept every key's metas; one that
    // decorated the map it was given in place (the common case) costs nothing more.
    if (decorated !== presences) {
      for (const key of keys) {
        if (!Array.isArray(decorated[key]?.metas)) throw new Error(`presence fetch must keep "metas" for every key (missing for "${key}")`);
      }
    }
    return decorated;
  }
}

/** Creates the presence tracker for an endpoint: `createPresence({ pubsub: endpoint.pubsub, fetch })`. */
export function createPresence(options: PresenceOptions): Presence {
  return new Presence(options);
}
