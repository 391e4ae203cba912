/**
 * The presence scenario's load side for the servers without presence — naive presence (no CRDT,
 * single node) built into the bench's Socket.IO and bare ws servers: M raw clients, each a
 * distinct user `m<i>` joined to one topic, each keeping its view of who is there (a byte per
 * key): the full member list the server sends the joiner, then one join or leave frame per
 * change. It offers the same surface as the Cinder `Fleet` (fleet.ts) so the end-to-end
 * presence runner (e2e-bench.ts) drives both alike.
 */
import { WebSocket } from "ws";
import { FleetBase } from "./fleet-base.js";

type Status = "idle" | "connecting" | "joined" | "closed";

class NaiveMember {
  ws: WebSocket | null = null;
  status: Status = "idle";
  generation = 0;
  readonly view: Uint8Array;
  present = 0;
  gotState = false;

  constructor(readonly index: number, readonly user: string, members: number) {
    this.view = new Uint8Array(members);
  }
}

/** Options of a naive fleet. */
export interface NaiveFleetOptions {
  port: number;
  dialect: "socketio" | "ws";
  topic: string;
  members: number;
  batch: number;
}

const WS_STATE = Buffer.from('{"op":"state"');
const WS_JOIN = Buffer.from('{"op":"join"');
const WS_LEAVE = Buffer.from('{"op":"leave"');
const SIO_STATE = Buffer.from('42["pstate",');
const SIO_DIFF = Buffer.from('42["pdiff",{"');
const KEY_WS = Buffer.from('"key":"m');
const N_FIELD = Buffer.from('"n":');

function startsWith(data: Buffer, prefix: Buffer): boolean {
  return data.length >= prefix.length && data.compare(prefix, 0, prefix.length, 0, prefix.length) === 0;
}

/** Reads the decimal integer at `from` (stops at the first non-digit). */
function readInt(data: Buffer, from: number): number {
  let value = 0;
  let i = from;
  for (; i < data.length; i++) {
    const c = data[i]!;
    if (c < 0x30 || c > 0x39) break;
    value = value * 10 + (c - 0x30);
  }
  return i === from ? -1 : value;
}

/** M naive-presence members. */
export class NaiveFleet extends FleetBase<NaiveMember> {
  readonly members: NaiveMember[];
  /** Naive presence has no metas: never more than one entry per key. */
  readonly extraMetas = 0;
  private readonly seenBroadcasts = new Set<number>();
  protected readonly count: number;
  private readonly joinFrame: string;

  constructor(private readonly options: NaiveFleetOptions) {
    super();
    this.count = options.members;
    this.members = Array.from({ length: options.members }, (_, i) => new NaiveMember(i, `m${i}`, options.members));
    this.joinFrame = options.dialect === "ws"
      ? JSON.stringify({ op: "join", topic: options.topic })
      : `42${JSON.stringify(["pjoin", options.topic])}`;
  }

  verifyFull(): { ok: boolean; membersWrong: number; extraMetas: number } {
    let membersWrong = 0;
    for (const member of this.members) {
      if (member.status !== "joined" || !member.gotState || member.present !== this.count || member.view.indexOf(0) !== -1) membersWrong++;
    }
    return { ok: membersWrong === 0, membersWrong, extraMetas: 0 };
  }

  private resetView(member: NaiveMember): void {
    if (member.present === this.count) this.fullMembers--;
    member.view.fill(0);
    member.present = 0;
    member.gotState = false;
  }

  /** Most connect+joins in flight at once. */
  protected get batch(): number {
    return this.options.batch;
  }

  protected connect(member: NaiveMember): void {
    const generation = ++member.generation;
    this.resetView(member);
    const path = this.options.dialect === "ws" ? `/?user=${member.user}` : `/socket.io/?EIO=4&transport=websocket&user=${member.user}`;
    const ws = new WebSocket(`ws://127.0.0.1:${this.options.port}${path}`, { perMessageDeflate: false, skipUTF8Validation: true });
    member.ws = ws;
    member.status = "connecting";
    this.inflight++;
    ws.on("open", () => {
      if (generation !== member.generation) return;
      ws.send(this.options.dialect === "ws" ? this.joinFrame : "40");
    });
    ws.on("message", (data: Buffer, isBinary: boolean) => {
      if (generation === member.generation && !isBinary) this.onMessage(member, data);
    });
    ws.on("error", (error: Error) => {
      this.counters.errors++;
      if (this.errorSamples.length < 10) this.errorSamples.push(`${member.user}: ${error.message}`);
    });
    ws.on("close", (code: number) => {
      if (generation !== member.generation) return;
      this.counters.unexpectedCloses++;
      if (member.status === "connecting") this.inflight--;
      member.status = "closed";
      this.resetView(member);
      this.fatal ??= `member ${member.user}'s connection closed unexpectedly (code ${code})`;
      this.notify();
    });
  }

  private onMessage(member: NaiveMember, data: Buffer): void {
    const counters = this.counters;
    counters.bytes += data.length;
    if (this.options.dialect === "ws") {
      if (startsWith(data, WS_JOIN) || startsWith(data, WS_LEAVE)) {
        const join = data[7] === 0x6a; // {"op":"j…
        const keyAt = data.indexOf(KEY_WS);
        this.diff(member, join, keyAt < 0 ? -1 : readInt(data, keyAt + KEY_WS.length), data);
      } else if (startsWith(data, WS_STATE)) {
        const { members } = JSON.parse(data.toString("utf8")) as { members: string[] };
        this.state(member, members);
      } else {
        counters.otherFrames++;
      }
      return;
    }
    // Socket.IO: 42["pdiff",{"j":"m5","n":3}] / {"l":…}, 42["pstate",[…]], 2 (ping), 40 (connected).
    if (startsWith(data, SIO_DIFF)) {
      const join = data[SIO_DIFF.length] === 0x6a; // j
      // {"j":"m<digits>" → the digits start 5 bytes after the opening quote of the field name.
      this.diff(member, join, readInt(data, SIO_DIFF.length + 5), data);
    } else if (startsWith(data, SIO_STATE)) {
      const [, members] = JSON.parse(data.toString("utf8", 2)) as [string, string[]];
      this.state(member, members);
    } else if (data.length === 1 && data[0] === 0x32) {
      member.ws?.send("3");
    } else if (data[0] === 0x34 && data[1] === 0x30) {
      member.ws?.send(this.joinFrame);
    } else {
      counters.otherFrames++;
    }
  }

  private diff(member: NaiveMember, join: boolean, key: number, data: Buffer): void {
    const counters = this.counters;
    counters.diffFrames++;
    const nAt = data.indexOf(N_FIELD);
    if (nAt >= 0) {
      this.seenBroadcasts.add(readInt(data, nAt + N_FIELD.length));
      counters.diffParses = this.seenBroadcasts.size;
    }
    if (key < 0 || key >= this.count) {
      this.foreignKeys++;
      return;
    }
    if (join) {
      counters.diffJoinEntries++;
      if (member.gotState) this.add(member, key);
    } else {
      counters.diffLeaveEntries++;
      if (member.gotState && member.view[key] === 1) {
        member.view[key] = 0;
        if (member.present-- === this.count) this.fullMembers--;
      }
    }
  }

  private state(member: NaiveMember, members: string[]): void {
    this.counters.stateFrames++;
    this.resetView(member);
    member.gotState = true;
    for (const user of members) {
      const key = Number(user.slice(1));
      if (user[0] !== "m" || !Number.isInteger(key) || key < 0 || key >= this.count) {
        this.foreignKeys++;
        continue;
      }
      this.add(member, key);
    }
    if (member.status === "connecting") {
      member.status = "joined";
      this.inflight--;
      this.counters.joins++;
      this.lastJoinAt = performance.now();
      this.notify();
    }
  }

  private add(member: NaiveMember, key: number): void {
    if (member.view[key] === 1) return;
    member.view[key] = 1;
    if (++member.present === this.count) {
      this.fullMembers++;
      if (this.fullMembers === this.count) {
        this.lastConvergedAt = performance.now();
        this.lastExactAt = this.lastConvergedAt;
        this.notify();
      }
    }
  }
}
