/**
 * Presence: who is on each topic, replicated across nodes by the tracker CRDT, with Phoenix's
 * wire format. `track(socket, key, meta)` adds a meta under a key (one key may hold many metas:
 * one per tab or device), `update` replaces it (new `phx_ref`, `phx_ref_prev` = the old one),
 * `untrack` removes it; whatever a channel tracked leaves when the channel ends, whatever the
 * reason. Every change goes out as a `presence_diff` broadcast `{joins, leaves}` to this node's
 * subscribers of the topic (each node computes its own diffs from what it merges), after the
 * `fetch` hook decorated both sides; changes to one topic within `diffWindowMs` go out as one
 * diff. `list(topic)` is what a channel pushes as `presence_state`.
 */
import { randomBytes } from "node:crypto";
import { createLogger, type Logger } from "../logger.js";
import type { PubSub } from "../pubsub/index.js";
import { type Diff, type Entry, type Meta } from "./state.js";
import { Tracker, type TrackerTiming } from "./tracker.js";

/** One key's presence: its metas (each with `phx_ref`) plus whatever `fetch` added. */
export interface PresenceEntry<M extends Meta = Meta> {
  metas: Array<M & { phx_ref: string; phx_ref_prev?: string }>;
  [extra: string]: unknown;
}

/** Presences by key, as `presence_state` and each side of `presence_diff` carry them. */
export type PresenceMap<M extends Meta = Meta> = Record<string, PresenceEntry<M>>;

/** A `presence_diff` payload. */
export interface PresenceDiff<M extends Meta = Meta> {
  joins: PresenceMap<M>;
  leaves: PresenceMap<M>;
}

/** Something that can own tracked presences and tells when it ends (a channel's socket is one). */
export interface PresenceOwner {
  readonly topic: string;
  readonly ownerId: string;
  onExit(callback: () => void): unknown;
}

/** Thrown by `track` / `update` / `untrack` when the presence state refuses the operation. */
export class PresenceError extends Error {
  override readonly name = "PresenceError";
  constructor(readonly reason: "already_tracked" | "nopresence" | "invalid_meta" | "meta_too_large", message: string) {
    super(message);
  }
}

/** Options of a `Presence`. */
export interface PresenceOptions extends Partial<TrackerTiming> {
  /** The PubSub to gossip and broadcast on (the endpoint's). */
  pubsub: PubSub;
  /** The tracker name; every node of a cluster must use the same one. Default "presence". */
  name?: string;
  /** Decorates presences (in lists and on both sides of every diff) before they are sent. */
  fetch?(topic: string, presences: PresenceMap): PresenceMap | Promise<PresenceMap>;
  /** Called on this node after each diff went out, with the topic's current key → metas. */
  handleMetas?(topic: string, diff: PresenceDiff, presences: ReadonlyMap<string, readonly Meta[]>): void | Promise<void>;
  /** Diffs of one topic within this window go out as one (0–100 ms). Default 25. */
  diffWindowMs?: number;
  /** Largest meta, in bytes of JSON; larger ones are refused (`meta_too_large`). Default 4 096. */
  maxMetaSize?: number;
  /** Logger; default the built-in one. */
  logger?: Logger;
}

const BOOT = randomBytes(6);
let refCounter = 0;

/** A fresh, unique `phx_ref`: 16 URL-safe characters. */
function newRef(): string {
  const bytes = Buffer.allocUnsafe(12);
  BOOT.copy(bytes, 0);
  bytes.writeUIntBE(++refCounter % 2 ** 48, 6, 6);
  return bytes.toString("base64url");
}

/** An entry's dot as one string: the identity of one meta across the cluster. */
function dotOf(entry: Entry): string {
  return `${entry.replica}\u0001${entry.counter}`;
}

function nullObject<T>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}

/** Pending (coalesced) changes of one topic, by dot. */
interface PendingDiff {
  joins: Map<string, Entry>;
  leaves: Map<string, Entry>;
}

/** Presence tracking for one endpoint (one replica of the cluster-wide tracker). */
export class Presence {
  private readonly tracker: Tracker;
  private readonly logger: Logger;
  private readonly windowMs: number;
  private readonly watched = new Set<string>();
  private pending = new Map<string, PendingDiff>();
  private flushTimer: NodeJS.Timeout | undefined;
  private queue: Promise<void> = Promise.resolve();

  constructor(private readonly options: PresenceOptions) {
    this.logger = options.logger ?? createLogger({ name: "presence" });
    this.windowMs = Math.min(100, Math.max(0, options.diffWindowMs ?? 25));
    this.tracker = new Tracker({ ...options, name: options.name ?? "presence", logger: this.logger, onDiff: (diff) => this.collect(diff) });
    this.tracker.start();
  }

  /** Tracks `key` with `meta` on the owner's topic; returns the new `phx_ref`. Throws `PresenceError`. */
  track(owner: PresenceOwner, key: string, meta: Meta = {}): string {
    this.watch(owner);
    return this.trackOwner(owner.ownerId, owner.topic, key, meta);
  }

  /** Tracks `key` on `topic` for any owner id (untrack it yourself, or with `untrackAll`). */
  trackOwner(ownerId: string, topic: string, key: string, meta: Meta = {}): string {
    const ref = newRef();
    const result = this.tracker.state.join(ownerId, topic, String(key), this.withRef(meta, ref));
    if (!result.ok) throw new PresenceError("already_tracked", `"${key}" is already tracked on "${topic}" by this owner`);
    this.tracker.reportLocal(result.diff);
    return ref;
  }

  /** Stops tracking `key` on the owner's topic; returns false when it was not tracked. */
  untrack(owner: PresenceOwner, key: string): boolean {
    return this.untrackOwner(owner.ownerId, owner.topic, key);
  }

  /** Stops tracking `key` on `topic` for an owner id; returns false when it was not tracked. */
  untrackOwner(ownerId: string, topic: string, key: string): boolean {
    const diff = this.tracker.state.leave(ownerId, topic, String(key));
    this.tracker.reportLocal(diff);
    return diff.leaves.length > 0;
  }

  /** Stops tracking everything an owner tracked, on every topic. */
  untrackAll(ownerId: string): void {
    this.tracker.reportLocal(this.tracker.state.leaveOwner(ownerId));
  }

  /** True when the owner tracks `key` on its topic (on this node). */
  isTracked(owner: PresenceOwner, key: string): boolean {
    return this.tracker.state.getLocal(owner.ownerId, owner.topic, String(key)) !== undefined;
  }

  /** Replaces the meta of `key` (or computes it from the old one); returns the new `phx_ref`. */
  update(owner: PresenceOwner, key: string, meta: Meta | ((old: Meta) => Meta)): string {
    return this.updateOwner(owner.ownerId, owner.topic, key, meta);
  }

  /** `update` for an owner id. Throws `PresenceError("nopresence")` when the key is not tracked. */
  updateOwner(ownerId: string, topic: string, key: string, meta: Meta | ((old: Meta) => Meta)): string {
    const state = this.tracker.state;
    const old = state.getLocal(ownerId, topic, String(key));
    if (old === undefined) throw new PresenceError("nopresence", `"${key}" is not tracked on "${topic}" by this owner`);
    const { phx_ref: previous, phx_ref_prev: _dropped, ...oldUserMeta } = old as Meta & { phx_ref?: string; phx_ref_prev?: string };
    const next = typeof meta === "function" ? meta(oldUserMeta) : meta;
    const ref = newRef();
    const stored = this.withRef(next, ref);
    const result = state.update(ownerId, topic, String(key), typeof previous === "string" ? { ...stored, phx_ref_prev: previous } : stored);
    if (!result.ok) throw new PresenceError("nopresence", `"${key}" is not tracked on "${topic}" by this owner`);
    this.tracker.reportLocal(result.diff);
    return ref;
  }

  /** The presences of `topic` (what `presence_state` carries), decorated by `fetch`. */
  async list(topic: string): Promise<PresenceMap> {
    const presences = nullObject<PresenceEntry>();
    for (const [key, metas] of this.tracker.state.list(topic)) presences[key] = { metas: metas as PresenceEntry["metas"] };
    return this.decorate(topic, presences);
  }

  /** One key's presence on `topic`, decorated by `fetch`, or undefined. */
  async getByKey(topic: string, key: string): Promise<PresenceEntry | undefined> {
    const metas = this.tracker.state.get(topic, String(key));
    if (metas.length === 0) return undefined;
    const single = nullObject<PresenceEntry>();
    single[key] = { metas: metas as PresenceEntry["metas"] };
    return (await this.decorate(topic, single))[key];
  }

  /** Topics with presences on them. */
  topics(): string[] {
    return this.tracker.state.topics();
  }

  /** Distinct keys (users) present on `topic`. */
  countUsers(topic: string): number {
    return this.tracker.state.countKeys(topic);
  }

  /** Metas (connections) present on `topic`. */
  countConnections(topic: string): number {
    return this.tracker.state.countMetas(topic);
  }

  /** The tracker behind this presence (its replica loop and CRDT state). */
  get replica(): Tracker {
    return this.tracker;
  }

  /** Resolves once every diff collected so far has been broadcast. */
  async flush(): Promise<void> {
    this.flushNow();
    await this.queue;
  }

  /** Stops the tracker; with `graceful` (default) other nodes drop this node's members at once. */
  async close(graceful = true): Promise<void> {
    await this.flush();
    this.tracker.stop(graceful);
  }

  private withRef(meta: Meta, ref: string): Meta {
    if (typeof meta !== "object" || meta === null || Array.isArray(meta)) {
      throw new PresenceError("invalid_meta", "presence meta must be a plain object");
    }
    const limit = this.options.maxMetaSize ?? 4096;
    let size: number;
    try {
      size = Buffer.byteLength(JSON.stringify(meta));
    } catch {
      throw new PresenceError("invalid_meta", "presence meta must be JSON");
    }
    if (size > limit) {
      this.logger.warn({ bytes: size, limit }, "presence meta refused: too large");
      throw new PresenceError("meta_too_large", `presence meta is ${size} bytes; the limit is ${limit}`);
    }
    const { phx_ref: _ref, phx_ref_prev: _prev, ...rest } = meta as Record<string, unknown>;
    return { ...rest, phx_ref: ref };
  }

  private watch(owner: PresenceOwner): void {
    if (this.watched.has(owner.ownerId)) return;
    this.watched.add(owner.ownerId);
    owner.onExit(() => {
      this.watched.delete(owner.ownerId);
      this.untrackAll(owner.ownerId);
    });
  }

  /**
   * Adds changes to the pending diffs, so that each meta is at most once in a diff, on one
   * side (docs/presence.md, "One meta per diff"). A meta that leaves while its join is still
   * pending goes out as a leave only: clients that never saw it ignore the leave, and those
   * whose `presence_state` was taken mid-window (so holds it) drop it. A meta that comes back
   * while its leave is pending (a replica down, then up) cannot be said in one diff, so the
   * pending diffs go out first.
   */
  private collect(diff: Diff): void {
    for (const entry of diff.leaves) {
      const pending = this.pendingFor(entry.topic);
      const dot = dotOf(entry);
      pending.joins.delete(dot);
      pending.leaves.set(dot, entry);
    }
    for (const entry of diff.joins) {
      if (this.pending.get(entry.topic)?.leaves.has(dotOf(entry))) this.flushNow();
      this.pendingFor(entry.topic).joins.set(dotOf(entry), entry);
    }
    if (this.flushTimer === undefined && this.pending.size > 0) {
      this.flushTimer = setTimeout(() => this.flushNow(), this.windowMs);
    }
  }

  private pendingFor(topic: string): PendingDiff {
    let pending = this.pending.get(topic);
    if (pending === undefined) this.pending.set(topic, (pending = { joins: new Map(), leaves: new Map() }));
    return pending;
  }

  private flushNow(): void {
    if (this.flushTimer !== undefined) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    this.queue = this.queue.then(async () => {
      for (const [topic, pending] of batch) {
        if (pending.joins.size === 0 && pending.leaves.size === 0) continue;
        try {
          await this.broadcastDiff(topic, pending);
        } catch (error) {
          this.logger.error({ err: error, topic }, "presence: diff could not be sent");
        }
      }
    });
  }

  private async broadcastDiff(topic: string, pending: PendingDiff): Promise<void> {
    const group = (entries: Iterable<Entry>): PresenceMap => {
      const map = nullObject<PresenceEntry>();
      for (const entry of entries) {
        const existing = map[entry.key];
        if (existing === undefined) map[entry.key] = { metas: [entry.meta as PresenceEntry["metas"][number]] };
        else existing.metas.push(entry.meta as PresenceEntry["metas"][number]);
      }
      return map;
    };
    const [joins, leaves] = await Promise.all([
      this.decorate(topic, group(pending.joins.values())),
      this.decorate(topic, group(pending.leaves.values())),
    ]);
    const diff: PresenceDiff = { joins, leaves };
    this.options.pubsub.localBroadcast(topic, "presence_diff", diff);
    if (this.options.handleMetas !== undefined) {
      try {
        await this.options.handleMetas(topic, diff, this.tracker.state.list(topic));
      } catch (error) {
        this.logger.error({ err: error, topic }, "presence: handleMetas threw");
      }
    }
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
