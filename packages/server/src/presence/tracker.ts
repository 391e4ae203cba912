/**
 * The tracker's replica loop (Phoenix.Tracker's shard process): owns a `TrackerState` and
 * gossips it with the replicas on other nodes over the PubSub topic `phx_presence:<name>`.
 * Every broadcast period it sends a heartbeat carrying the delta accumulated since the last one
 * (or an empty keep-alive after `maxSilentPeriods`), samples the clocks it heard and asks the
 * replicas ahead of it for a transfer (repairing lost messages and bootstrapping new nodes),
 * and marks replicas that stopped heartbeating down, then permanently down. Every change it
 * sees — local operations or merges — is reported through `onDiff`; the first full state of
 * each replica that started before this one, from whichever replica's transfer, is marked
 * `bootstrap` (what was there before this node joined the group, not a change). Timers are unref'd.
 * On a pubsub that is `alone` (no other node can hear it) the loop sleeps once its delta is
 * drained and wakes on the next local change: an idle single node has no presence timer.
 */
import { randomBytes } from "node:crypto";
import type { Logger } from "../logger.js";
import type { BroadcastMessage, PubSub, Subscriber } from "../pubsub/index.js";
import { decodeClock, encodeClock, parseReplicaKey, replicaKey, type Clock, type Replica } from "./clock.js";
import { TrackerState, type Diff, type Meta, type OpResult } from "./state.js";
import { decodeData, splitState, type TrackerData } from "./wire.js";

/** Timing of the replica loop (Phoenix.Tracker's defaults). */
export interface TrackerTiming {
  /** Heartbeat period. Default 1 500 ms. */
  broadcastPeriodMs: number;
  /**
   * Periods without changes before an empty keep-alive heartbeat. Default 10. Capped so that a
   * keep-alive goes out at least every half `downPeriodMs` (an idle replica is never taken for down).
   */
  maxSilentPeriods: number;
  /** A replica silent this long is down (its members leave). Default 30 000 ms. */
  downPeriodMs: number;
  /** A replica silent this long is forgotten. Default 1 200 000 ms (20 min). */
  permdownPeriodMs: number;
  /** Heartbeats between clock samplings (transfer requests). Default 2. */
  clockSamplePeriods: number;
}

/** Default timing. */
export const defaultTiming: TrackerTiming = {
  broadcastPeriodMs: 1_500,
  maxSilentPeriods: 10,
  downPeriodMs: 30_000,
  permdownPeriodMs: 1_200_000,
  clockSamplePeriods: 2,
};

/** Options of a tracker. */
export interface TrackerOptions extends Partial<TrackerTiming> {
  pubsub: PubSub;
  /** The tracker's name; replicas with the same name on different nodes form one group. */
  name: string;
  logger: Logger;
  /**
   * Receives every visible change, local or merged. `bootstrap` is true for the first full
   * state merged of a replica that started before this one (this node's initial sync), whichever
   * replica's transfer brought it.
   */
  onDiff(diff: Diff, bootstrap: boolean): void;
}

/** The boot time (ms since the epoch) a replica's vsn starts with, or undefined. */
function bootTime(vsn: string): number | undefined {
  const time = Number(vsn.slice(0, vsn.indexOf("-")));
  return Number.isSafeInteger(time) && time > 0 ? time : undefined;
}

type ReplicaWire = [name: string, vsn: string];

/** Messages replicas exchange on the gossip topic. */
type Gossip =
  | { event: "heartbeat"; from: ReplicaWire; delta: TrackerData | null; clock: ReturnType<typeof encodeClock> }
  | { event: "transfer_req"; from: ReplicaWire; clock: ReturnType<typeof encodeClock> }
  | { event: "transfer_ack"; from: ReplicaWire; data: TrackerData }
  | { event: "graceful_permdown"; from: ReplicaWire };

function isReplicaWire(value: unknown): value is ReplicaWire {
  return Array.isArray(value) && value.length === 2 && typeof value[0] === "string" && typeof value[1] === "string";
}

/** The reads of a tracker's state (visible presences, counts, replicas). */
export type TrackerReads = Pick<TrackerState,
  "list" | "keys" | "get" | "getLocal" | "entries" | "countKeys" | "countKeyMetas" | "countMetas" | "topics" | "replicas" | "replicaStatus">;

/** One replica of a tracker group, on this node. */
export class Tracker implements Subscriber {
  private readonly state: TrackerState;
  /** This replica's identity: the node name and a boot version. */
  readonly replica: Replica;
  private readonly timing: TrackerTiming;
  private readonly topic: string;
  private readonly lastHeard = new Map<string, number>();
  private readonly remoteClocks = new Map<string, Clock>();
  /** Replicas whose full state we merged, from them or relayed by another (keys). */
  private readonly synced = new Set<string>();
  private readonly bootedAt = Date.now();
  private timer: NodeJS.Timeout | undefined;
  private silentPeriods = 0;
  /** `maxSilentPeriods`, capped to keep-alives at least every half down period. */
  private readonly silentLimit: number;
  private heartbeats = 0;
  private stopped = false;
  private started = false;
  /**
   * The time this tracker was awake to hear gossip, in ms: it advances with the ticks, but a tick
   * that came late (our own loop was saturated) credits at most two periods, so our stall is not
   * counted as the peers' silence. Silence is judged on this clock, never on the wall clock.
   */
  private awakeMs = 0;
  private lastTickAt = performance.now();

  constructor(private readonly options: TrackerOptions) {
    this.timing = { ...defaultTiming, ...Object.fromEntries(Object.entries(options).filter(([k, v]) => k in defaultTiming && v !== undefined)) };
    if (this.timing.downPeriodMs < 2 * this.timing.broadcastPeriodMs) throw new Error("downPeriodMs must be at least 2 × broadcastPeriodMs");
    if (this.timing.permdownPeriodMs <= this.timing.downPeriodMs) throw new Error("permdownPeriodMs must exceed downPeriodMs");
    this.silentLimit = Math.min(this.timing.maxSilentPeriods,
      Math.max(0, Math.floor(this.timing.downPeriodMs / (2 * this.timing.broadcastPeriodMs)) - 1));
    this.replica = { name: options.pubsub.nodeName, vsn: `${this.bootedAt}-${randomBytes(4).toString("hex")}` };
    this.state = new TrackerState(this.replica);
    this.topic = `phx_presence:${options.name}`;
  }

  /** Joins the group: subscribes to the gossip topic and starts heartbeating. */
  start(): void {
    this.started = true;
    this.options.pubsub.subscribe(this.topic, this);
    // The first heartbeat comes after a random 0–25 % of the period, so nodes started together spread out.
    this.schedule(Math.random() * 0.25 * this.timing.broadcastPeriodMs);
  }

  /** Leaves the group; with `graceful`, tells the others at once so our members leave everywhere now. */
  stop(graceful = true): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    if (graceful) this.send({ event: "graceful_permdown", from: this.wireSelf() });
    this.options.pubsub.unsubscribe(this.topic, this);
  }

  /** The state, read-only. */
  get reads(): TrackerReads {
    return this.state;
  }

  /** Adds (owner, topic, key) with `meta` (frozen metas are kept as they are); refused when held. */
  track(owner: string, topic: string, key: string, meta: Meta): OpResult {
    const result = this.state.join(owner, topic, key, meta);
    if (result.ok) this.reportLocal(result.diff);
    return result;
  }

  /** Replaces the meta of a held (owner, topic, key); refused when not held. */
  update(owner: string, topic: string, key: string, meta: Meta): OpResult {
    const result = this.state.update(owner, topic, key, meta);
    if (result.ok) this.reportLocal(result.diff);
    return result;
  }

  /** Removes (owner, topic, key); false when it was not held. */
  untrack(owner: string, topic: string, key: string): boolean {
    const diff = this.state.leave(owner, topic, key);
    this.reportLocal(diff);
    return diff.leaves.length > 0;
  }

  /** Removes everything `owner` holds, on every topic. */
  untrackAll(owner: string): void {
    this.reportLocal(this.state.leaveOwner(owner));
  }

  /** Gossip from another replica. */
  deliver(message: BroadcastMessage): void {
    if (this.stopped) return;
    try {
      this.receive(message.event, message.payload);
    } catch (error) {
      this.options.logger.warn({ err: error, event: message.event }, "presence: malformed gossip ignored");
    }
  }

  /** Sends a heartbeat now (tests, and shutdown paths that cannot wait a period). */
  heartbeat(): void {
    const delta = this.state.takeDelta();
    if (delta !== null || this.silentPeriods >= this.silentLimit) {
      this.send({ event: "heartbeat", from: this.wireSelf(), delta, clock: encodeClock(this.state.clock()) });
      this.silentPeriods = 0;
    } else {
      this.silentPeriods++;
    }
  }

  private tick(): void {
    if (this.stopped) return;
    const now = performance.now();
    this.awakeMs += Math.min(now - this.lastTickAt, 2 * this.timing.broadcastPeriodMs);
    this.lastTickAt = now;
    this.heartbeat();
    if (++this.heartbeats % this.timing.clockSamplePeriods === 0) this.sampleClocks();
    // Judged after the loop's poll phase: gossip that waited behind a stall is delivered first
    // (timers run before pending I/O, so judging here would miss heartbeats already received).
    setImmediate(() => {
      if (this.stopped) return;
      this.detectDowns();
      // Alone (no other node can hear us) and nothing to drain: sleep until the next local change.
      if (this.options.pubsub.alone && !this.state.hasDelta()) this.timer = undefined;
      else this.schedule(this.timing.broadcastPeriodMs);
    });
  }

  /** Wakes a sleeping tracker (alone, idle) after a local change: its delta is drained within a period, as when awake. */
  private wake(): void {
    if (this.timer === undefined && this.started && !this.stopped) this.schedule(this.timing.broadcastPeriodMs);
  }

  /** `awakeMs` now: the time since the last tick counts, up to two periods. */
  private awakeNow(): number {
    return this.awakeMs + Math.min(performance.now() - this.lastTickAt, 2 * this.timing.broadcastPeriodMs);
  }

  private schedule(ms: number): void {
    this.timer = setTimeout(() => this.tick(), ms);
    this.timer.unref();
  }

  private receive(event: string, payload: unknown): void {
    const message = payload as Partial<Gossip> & Record<string, unknown>;
    if (!isReplicaWire(message.from)) throw new Error("gossip without a valid sender");
    const from: Replica = { name: message.from[0], vsn: message.from[1] };
    if (from.name === this.replica.name) {
      if (from.vsn !== this.replica.vsn) this.options.logger.error({ node: from.name }, "presence: another node uses this node's name");
      return;
    }
    const key = replicaKey(from);
    switch (event) {
      case "heartbeat": {
        const clock = decodeClock(message.clock);
        const delta = message.delta === null || message.delta === undefined ? null : decodeData(message.delta);
        this.lastHeard.set(key, this.awakeNow());
        this.report(this.state.replicaUp(from));
        if (delta !== null) this.report(this.state.merge(delta));
        this.remoteClocks.set(key, clock);
        break;
      }
      case "transfer_req": {
        const clock = decodeClock(message.clock);
        const data = this.state.extract(from, clock);
        this.send({ event: "transfer_ack", from: this.wireSelf(), data }, from.name);
        break;
      }
      case "transfer_ack": {
        if (this.state.replicaStatus(from) === undefined) return;
        // A replica whose full state reaches us for the first time, and that started before this
        // node, holds what was there before we joined: adopted, not news — whichever replica's
        // transfer brings it (the first transfer leaves out replicas we had not heard of yet).
        // A replica we have not heard of yet is skipped by the merge: it is not synced by this one.
        const data = decodeData(message.data);
        const known = (name: string, vsn: string): boolean => this.state.replicaStatus({ name, vsn }) !== undefined;
        const [adopted, news] = splitState(data, ([name, vsn]) => {
          const started = bootTime(vsn);
          return known(name, vsn) && !this.synced.has(replicaKey({ name, vsn })) && started !== undefined && started < this.bootedAt;
        });
        for (const [name, vsn] of data.replicas) if (known(name, vsn)) this.synced.add(replicaKey({ name, vsn }));
        this.report(this.state.merge(adopted), true);
        this.report(this.state.merge(news));
        break;
      }
      case "graceful_permdown": {
        if (this.state.replicaStatus(from) === undefined) return;
        this.report(this.state.replicaDown(from));
        this.report(this.state.permdown(from));
        this.lastHeard.delete(key);
        this.remoteClocks.delete(key);
        this.synced.delete(key);
        break;
      }
      default:
        throw new Error(`unknown gossip event ${JSON.stringify(event)}`);
    }
  }

  private sampleClocks(): void {
    const targets = this.state.transferTargets(this.remoteClocks);
    this.remoteClocks.clear();
    const clock = encodeClock(this.state.clock());
    for (const target of targets) {
      this.send({ event: "transfer_req", from: this.wireSelf(), clock }, parseReplicaKey(target).name);
    }
  }

  private detectDowns(): void {
    const now = this.awakeNow();
    for (const info of this.state.replicas()) {
      if (info.self) continue;
      const heard = this.lastHeard.get(info.key) ?? now;
      if (!this.lastHeard.has(info.key)) this.lastHeard.set(info.key, now);
      const silent = now - heard;
      if (silent > this.timing.permdownPeriodMs) {
        if (info.status === "up") this.report(this.state.replicaDown(info.key));
        this.report(this.state.permdown(info.key));
        this.lastHeard.delete(info.key);
        this.synced.delete(info.key);
        this.options.logger.info({ replica: info.name }, "presence: replica permanently down");
      } else if (silent > this.timing.downPeriodMs && info.status === "up") {
        this.report(this.state.replicaDown(info.key));
        this.options.logger.warn({ replica: info.name, silentMs: silent }, "presence: replica down");
      }
    }
  }

  private wireSelf(): ReplicaWire {
    return [this.replica.name, this.replica.vsn];
  }

  private send(message: Gossip, node?: string): void {
    const { event, ...payload } = message;
    if (node === undefined) this.options.pubsub.broadcastFrom(this, this.topic, event, payload);
    else this.options.pubsub.directBroadcast(node, this.topic, event, payload);
  }

  private report(diff: Diff, bootstrap = false): void {
    if (diff.joins.length > 0 || diff.leaves.length > 0) this.options.onDiff(diff, bootstrap);
  }

  /** Reports a local operation's diff and wakes the tracker to drain the delta it left. */
  private reportLocal(diff: Diff): void {
    this.report(diff);
    if (this.state.hasDelta()) this.wake();
  }
}
