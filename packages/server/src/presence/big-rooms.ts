/**
 * Count mode on one node (docs/presence.md "Big rooms"): for each topic with a big-room policy,
 * decides the mode from the replicated counts after every diff window, and in count mode replaces
 * the topic's `presence_diff`s by, at most once per `countIntervalMs`, one `presence_count` (when
 * the counts changed) and one `presence_diff` of the sample (when it changed). Entering count mode
 * broadcasts `presence_count` then the sample as `presence_state`; leaving it broadcasts
 * `presence_count` (`mode: "list"`) then the full list as `presence_state`. Every broadcast runs on
 * the presence's send queue, so it is ordered with the topic's other presence broadcasts.
 */
import { PRESENCE_COUNT_EVENT, PRESENCE_EVENTS, type PresenceCount } from "@cinder/protocol";
import type { Logger } from "../logger.js";
import { EncodedJson } from "../serializer/index.js";
import { RoomSample, nextMode, nextUpdateDelay, type BigRoomPolicy } from "./big-room.js";
import type { PendingDiff } from "./diff-window.js";
import type { Entry } from "./state.js";

/** What count mode needs from the presence it serves. */
export interface RoomHost {
  /** The topic's policy, or undefined when the topic has none. */
  policy(topic: string): BigRoomPolicy | undefined;
  /** Distinct keys and metas on the topic, cluster-wide (the replicated state). */
  counts(topic: string): { users: number; connections: number };
  /** The topic's visible entries (to seed and refill the sample). */
  entries(topic: string): Entry[];
  /** Entries grouped by key and decorated by `fetch`. */
  decorate(topic: string, entries: readonly Entry[]): Promise<Record<string, unknown>>;
  /** The topic's full decorated list (when a room leaves count mode). */
  fullList(topic: string): Promise<Record<string, unknown>>;
  /** Broadcasts to this node's subscribers of the topic. */
  broadcast(topic: string, event: string, payload: unknown): void;
  /** Runs a task on the presence's send queue (after what is queued). */
  run(task: () => Promise<void>): void;
  readonly logger: Logger;
}

/** One topic in count mode. */
class Room {
  /** The sample as last sent, encoded: what a joiner's `presence_state` carries. */
  state = new EncodedJson(Buffer.from("{}"));
  lastSentAt: number | undefined;
  lastCount: PresenceCount | undefined;
  timer: NodeJS.Timeout | undefined;
  constructor(readonly policy: BigRoomPolicy, readonly sample: RoomSample) {}
}

const sameCount = (a: PresenceCount | undefined, b: PresenceCount): boolean =>
  a !== undefined && a.users === b.users && a.connections === b.connections && a.mode === b.mode;

/** The topics of one presence that are in count mode, and their updates. */
export class BigRooms {
  private readonly rooms = new Map<string, Room>();
  private closed = false;

  constructor(private readonly host: RoomHost) {}

  /** True when `topic` is in count mode on this node. */
  counting(topic: string): boolean {
    return this.rooms.has(topic);
  }

  /** The topic's counts (cluster-wide) and mode. */
  count(topic: string): PresenceCount {
    const { users, connections } = this.host.counts(topic);
    return { users, connections, mode: this.rooms.has(topic) ? "count" : "list" };
  }

  /**
   * Takes one window's changes of `topic` (on the send queue). Returns true when they are handled
   * here (the topic is, or just entered or left, count mode): no `presence_diff` of them goes out.
   */
  async handle(topic: string, pending: PendingDiff): Promise<boolean> {
    const room = this.rooms.get(topic);
    const policy = this.host.policy(topic);
    const { connections } = this.host.counts(topic);
    if (room === undefined) {
      if (policy === undefined || this.closed || nextMode("list", connections, policy) === "list") return false;
      await this.enter(topic, policy);
      return true;
    }
    room.sample.apply(pending);
    if (policy === undefined || nextMode("count", connections, room.policy) === "list") {
      await this.leave(topic, room);
      return true;
    }
    this.schedule(topic, room);
    return true;
  }

  /** What a joiner of a topic in count mode is pushed: its counts, then the sample as last sent; false in list mode. */
  pushTo(socket: { readonly topic: string; push(event: string, payload: unknown): void }): boolean {
    const room = this.rooms.get(socket.topic);
    if (room === undefined) return false;
    socket.push(PRESENCE_COUNT_EVENT, this.count(socket.topic));
    socket.push(PRESENCE_EVENTS.state, room.state);
    return true;
  }

  /** Stops every timer (the presence is closing); pending count updates are dropped. */
  close(): void {
    this.closed = true;
    for (const room of this.rooms.values()) if (room.timer !== undefined) clearTimeout(room.timer);
    this.rooms.clear();
  }

  private async enter(topic: string, policy: BigRoomPolicy): Promise<void> {
    const room = new Room(policy, new RoomSample(policy.sampleSize, this.host.entries(topic)));
    this.rooms.set(topic, room);
    const state = await this.host.decorate(topic, room.sample.entries());
    room.sample.take();
    this.sendCount(topic, room);
    this.sendState(topic, room, state);
    this.host.logger.info({ topic, connections: room.lastCount?.connections }, "presence: topic entered count mode");
  }

  private async leave(topic: string, room: Room): Promise<void> {
    if (room.timer !== undefined) clearTimeout(room.timer);
    this.rooms.delete(topic);
    const list = await this.host.fullList(topic);
    this.host.broadcast(topic, PRESENCE_COUNT_EVENT, this.count(topic));
    this.host.broadcast(topic, PRESENCE_EVENTS.state, list);
    this.host.logger.info({ topic }, "presence: topic left count mode");
  }

  /** Schedules the topic's next update (coalesced: one timer at a time, `countIntervalMs` apart). */
  private schedule(topic: string, room: Room): void {
    if (room.timer !== undefined || this.closed) return;
    room.timer = setTimeout(() => {
      room.timer = undefined;
      this.host.run(() => this.update(topic, room));
    }, nextUpdateDelay(room.lastSentAt, Date.now(), room.policy));
    room.timer.unref();
  }

  /** One update: refill the sample if it has vacancies, then its diff and the counts, if changed. */
  private async update(topic: string, room: Room): Promise<void> {
    if (this.rooms.get(topic) !== room) return;
    const { connections } = this.host.counts(topic);
    if (room.sample.wantsMore(connections)) room.sample.refill(this.host.entries(topic));
    const diff = room.sample.take();
    if (diff.joins.length > 0 || diff.leaves.length > 0) {
      const [joins, leaves, state] = await Promise.all([
        this.host.decorate(topic, diff.joins),
        this.host.decorate(topic, diff.leaves),
        this.host.decorate(topic, room.sample.entries()),
      ]);
      if (this.rooms.get(topic) !== room) return;
      this.sendCount(topic, room);
      this.host.broadcast(topic, PRESENCE_EVENTS.diff, { joins, leaves });
      room.state = new EncodedJson(Buffer.from(JSON.stringify(state), "utf8"));
    } else {
      this.sendCount(topic, room);
    }
  }

  private sendCount(topic: string, room: Room): void {
    const count = this.count(topic);
    room.lastSentAt = Date.now();
    if (sameCount(room.lastCount, count)) return;
    room.lastCount = count;
    this.host.broadcast(topic, PRESENCE_COUNT_EVENT, count);
  }

  private sendState(topic: string, room: Room, state: Record<string, unknown>): void {
    room.state = new EncodedJson(Buffer.from(JSON.stringify(state), "utf8"));
    this.host.broadcast(topic, PRESENCE_EVENTS.state, state);
  }
}
