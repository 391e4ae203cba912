/**
 * Online/offline wiring of a `Presence` (docs/presence.md "Online and offline"): feeds every
 * tracker change to the pure `OnlineState` (each touched key present or absent now), runs the
 * offline timer, and sends each event to the `onOnline` / `onOffline` hooks and, as
 * `presence_online` / `presence_offline` pushes, to the channels that opted in. Keys adopted
 * from a node's first sync (`bootstrap`) make no event; channels that opted in before get the
 * corrected `presence_online_state`.
 */
import { ONLINE_EVENTS, type PresenceOnlineChange, type PresenceOnlineState } from "@cinder/protocol";
import type { Logger } from "../logger.js";
import { OnlineState, type OnlineEvent } from "./online.js";
import type { Diff } from "./state.js";
import type { TrackerReads } from "./tracker.js";

/** The online/offline options of a `Presence`. */
export interface OnlineHooks {
  /**
   * How long a key whose last meta left (on every node) stays online before it goes offline, in
   * ms: a reload, a short network loss or a move to another node within it makes no event.
   * Default 3 000. It must exceed the time a change takes to reach every node (about one
   * `broadcastPeriodMs`) plus a client's reconnect.
   */
  leaveGraceMs?: number;
  /** Called on this node when `key` comes online on `topic`: its first meta, on any node. */
  onOnline?(topic: string, key: string): void | Promise<void>;
  /** Called on this node when `key` goes offline on `topic`: no meta on any node for `leaveGraceMs`. */
  onOffline?(topic: string, key: string): void | Promise<void>;
}

/** A channel that receives a topic's online/offline events (see `Presence.subscribeOnline`). */
export interface OnlineSubscriber {
  readonly topic: string;
  readonly ownerId: string;
  push(event: string, payload: unknown): void;
  onExit(callback: () => void): unknown;
}

/** One node's online/offline events: state, timer, hooks and opted-in channels. */
export class OnlineEvents {
  /** The online keys and pending offlines. */
  readonly state: OnlineState;
  private readonly subscribers = new Map<string, Set<OnlineSubscriber>>();
  private timer: NodeJS.Timeout | undefined;
  private timerAt: number | undefined;
  private closed = false;

  /** Throws a `RangeError` for a `leaveGraceMs` that is not a finite number ≥ 0. */
  constructor(private readonly hooks: OnlineHooks, private readonly logger: Logger) {
    const grace = hooks.leaveGraceMs ?? 3_000;
    if (typeof grace !== "number" || !Number.isFinite(grace) || grace < 0) {
      throw new RangeError(`leaveGraceMs must be a finite number of ms ≥ 0, not ${String(grace)}`);
    }
    this.state = new OnlineState(grace);
  }

  /** Feeds a tracker change: each touched key is present or absent now (`bootstrap`: adopt silently). */
  observe(diff: Diff, bootstrap: boolean, reads: Pick<TrackerReads, "countKeyMetas">): void {
    if (this.closed) return;
    let adopted: Set<string> | undefined;
    for (const side of [diff.leaves, diff.joins]) {
      for (const { topic, key } of side) {
        if (reads.countKeyMetas(topic, key) > 0) {
          if (bootstrap && !this.state.isOnline(topic, key)) (adopted ??= new Set()).add(topic);
          const event = this.state.present(topic, key, performance.now(), bootstrap);
          if (event !== undefined) this.emit(event);
        } else {
          this.state.absent(topic, key, performance.now());
        }
      }
    }
    this.schedule();
    // Keys adopted silently were online all along: channels that opted in before this node had
    // synced get the corrected list (not news: no presence_online for them).
    for (const topic of adopted ?? []) {
      const state: PresenceOnlineState = { keys: this.state.online(topic) };
      for (const socket of this.subscribers.get(topic) ?? []) socket.push(ONLINE_EVENTS.state, state);
    }
  }

  /** Pushes `presence_online_state` to the channel now, and its topic's events until it ends. */
  subscribe(socket: OnlineSubscriber): void {
    let subscribers = this.subscribers.get(socket.topic);
    if (subscribers === undefined) this.subscribers.set(socket.topic, (subscribers = new Set()));
    if (subscribers.has(socket)) return;
    subscribers.add(socket);
    const state: PresenceOnlineState = { keys: this.state.online(socket.topic) };
    socket.push(ONLINE_EVENTS.state, state);
    socket.onExit(() => {
      const set = this.subscribers.get(socket.topic);
      set?.delete(socket);
      if (set?.size === 0) this.subscribers.delete(socket.topic);
    });
  }

  /** A stopping node makes no more events (the rest of the cluster decides): drops pending offlines. */
  close(): void {
    this.closed = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.state.clear();
  }

  private schedule(): void {
    const due = this.state.nextDue();
    if (due === this.timerAt) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = due;
    if (due === undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timerAt = undefined;
      for (const event of this.state.due(performance.now())) this.emit(event);
      this.schedule();
    }, Math.max(0, Math.ceil(due - performance.now())));
    this.timer.unref();
  }

  private emit(event: OnlineEvent): void {
    const payload: PresenceOnlineChange = { key: event.key };
    const name = event.kind === "online" ? ONLINE_EVENTS.online : ONLINE_EVENTS.offline;
    for (const socket of this.subscribers.get(event.topic) ?? []) socket.push(name, payload);
    const hook = event.kind === "online" ? this.hooks.onOnline : this.hooks.onOffline;
    if (hook === undefined) return;
    const failed = (error: unknown): void => this.logger.error({ err: error, topic: event.topic, key: event.key }, `presence: ${name} hook threw`);
    try {
      const result = hook.call(this.hooks, event.topic, event.key);
      if (result instanceof Promise) result.catch(failed);
    } catch (error) {
      failed(error);
    }
  }
}
