/**
 * The load side of the end-to-end benchmark: M raw `ws` clients ("members"), each a distinct
 * user joined to one `presence:*` topic, each keeping its own presence view the way phoenix.js
 * does (presence_state replaces it, presence_diff applies joins then leaves per key by phx_ref,
 * diffs arriving before the state are buffered) — but leanly, because at 10,000 members this
 * process is CPU-bound: one shared message handler that only parses presence frames, users and
 * refs interned to integers, each member's view an Int32Array (key index → phx_ref id, 0 =
 * absent) plus a rarely used overflow for keys with several metas, and a parse cache so an
 * identical `presence_diff` frame (the server encodes a broadcast once) is parsed once for all.
 */
import { WebSocket } from "ws";
import { FleetBase, type Counters } from "./load/fleet-base.js";

export { BenchTimeout, type Counters } from "./load/fleet-base.js";


/** A parsed diff: flat [keyIndex, refId, keyIndex, refId, ...] arrays. */
interface ParsedDiff {
  joins: Int32Array;
  leaves: Int32Array;
}

type Status = "idle" | "connecting" | "joining" | "joined" | "closed";

/** One simulated member (one user, one connection at a time). */
class Member {
  ws: WebSocket | null = null;
  status: Status = "idle";
  /** Bumped on every (re)connect; events of older sockets are ignored. */
  generation = 0;
  /** Key index → phx_ref id of one meta (0 = key absent). */
  readonly refs: Int32Array;
  /** Further metas of a key beyond the one in `refs` (a user on two connections at once). */
  extra: Map<number, number[]> | null = null;
  extraCount = 0;
  /** Keys with at least one meta. */
  present = 0;
  gotState = false;
  /** Diffs received before presence_state, applied after it (phoenix.js's pendingDiffs). */
  pending: ParsedDiff[] = [];

  constructor(readonly index: number, readonly user: string, members: number) {
    this.refs = new Int32Array(members);
  }
}

/** Options of a fleet. */
export interface FleetOptions {
  /** e.g. ws://127.0.0.1:4001/socket/websocket?vsn=2.0.0 */
  baseUrl: string;
  topic: string;
  members: number;
  /** At most this many connections connecting or joining at once. */
  batch: number;
  /** Every member sends a Phoenix heartbeat this often (the server closes idle sockets). */
  heartbeatMs?: number;
  /** Only members `from` ≤ i < `to` of the M (a load worker's share); their views still expect all M keys. Default all. */
  slice?: { from: number; to: number };
  /** The source address of the connections (spreads many connections over 127.0.0.x). */
  localAddress?: string;
}

const DIFF_CACHE_MAX_ENTRIES = 4096;
/** A key opening its metas, or one meta's phx_ref (not phx_ref_prev). */
const STATE_SCAN = /"([^"]+)":\{"metas":\[|"phx_ref":"([^"]+)"/g;
const DIFF_CACHE_MAX_BYTES = 64 * 1024 * 1024;



/** The simulated members and their shared message handling. */
export class Fleet extends FleetBase<Member> {
  readonly members: Member[];
  /** Metas beyond one per key, summed over every view (stale metas of reconnected users, while their leave is on its way). */
  extraMetas = 0;

  private readonly keyIndex = new Map<string, number>();
  private readonly refIds = new Map<string, number>();
  private readonly diffCache = new Map<string, { frame: Buffer; parsed: ParsedDiff }>();
  private diffCacheBytes = 0;
  private readonly diffPrefix: Buffer;
  private readonly joinFrame: string;
  private readonly heartbeatFrame = '[null,"hb","phoenix","heartbeat",{}]';
  private readonly topicJson: string;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  protected readonly count: number;
  /** Members this fleet holds (M, or its slice). */
  private readonly size: number;

  constructor(private readonly options: FleetOptions) {
    super();
    this.count = options.members;
    for (let i = 0; i < options.members; i++) this.keyIndex.set(`m${i}`, i);
    const { from, to } = options.slice ?? { from: 0, to: options.members };
    this.size = to - from;
    this.members = Array.from({ length: this.size }, (_, j) => new Member(from + j, `m${from + j}`, options.members));
    this.topicJson = JSON.stringify(options.topic);
    this.diffPrefix = Buffer.from(`[null,null,${this.topicJson},"presence_diff",`);
    this.joinFrame = `["1","1",${this.topicJson},"phx_join",{}]`;
    this.heartbeatTimer = setInterval(() => this.heartbeat(), options.heartbeatMs ?? 20_000);
    this.heartbeatTimer.unref();
  }

  /** Every connected member's key set equals all M users; also counts keys holding more than one meta. */
  verifyFull(): { ok: boolean; membersWrong: number; extraMetas: number } {
    let membersWrong = 0;
    let extraMetas = 0;
    for (const member of this.members) {
      extraMetas += member.extraCount;
      if (member.status !== "joined" || !member.gotState || member.present !== this.count) {
        membersWrong++;
        continue;
      }
      // present === M and keys are confined to 0..M-1, so every key is there; check anyway.
      if (member.refs.indexOf(0) !== -1) membersWrong++;
    }
    return { ok: membersWrong === 0, membersWrong, extraMetas };
  }

  /** Closes every connection at once (no close handshake) and stops the heartbeat. */
  override terminateAll(): void {
    clearInterval(this.heartbeatTimer);
    super.terminateAll();
  }

  private heartbeat(): void {
    for (const member of this.members) {
      if (member.ws !== null && member.ws.readyState === WebSocket.OPEN) member.ws.send(this.heartbeatFrame);
    }
  }

  private resetView(member: Member): void {
    if (member.present === this.count) this.fullMembers--;
    this.extraMetas -= member.extraCount;
    member.refs.fill(0);
    member.present = 0;
    member.extra = null;
    member.extraCount = 0;
    member.gotState = false;
    member.pending = [];
  }

  /** Most connect+joins in flight at once. */
  protected get batch(): number {
    return this.options.batch;
  }

  protected connect(member: Member): void {
    const generation = ++member.generation;
    this.resetView(member);
    const ws = new WebSocket(`${this.options.baseUrl}&user=${member.user}`, {
      perMessageDeflate: false,
      skipUTF8Validation: true,
      ...(this.options.localAddress !== undefined ? { localAddress: this.options.localAddress } : {}),
    });
    member.ws = ws;
    member.status = "connecting";
    this.inflight++;
    ws.on("open", () => {
      if (generation !== member.generation) return;
      member.status = "joining";
      ws.send(this.joinFrame);
    });
    ws.on("message", (data: Buffer, isBinary: boolean) => {
      if (generation === member.generation && !isBinary) this.onMessage(member, data);
    });
    ws.on("error", (error: Error) => {
      this.counters.errors++;
      if (this.errorSamples.length < 10) this.errorSamples.push(`${member.user}: ${error.message}`);
    });
    ws.on("close", (code: number, reason: Buffer) => {
      if (generation !== member.generation) return;
      this.counters.unexpectedCloses++;
      if (this.errorSamples.length < 10) this.errorSamples.push(`${member.user}: closed by peer (${code} ${reason.toString()})`);
      if (member.status === "connecting" || member.status === "joining") this.inflight--;
      member.status = "closed";
      this.resetView(member);
      this.fatal ??= `member ${member.user}'s connection closed unexpectedly (code ${code})`;
      this.notify();
    });
  }

  /** The shared message handler. */
  private onMessage(member: Member, data: Buffer): void {
    const counters = this.counters;
    counters.bytes += data.length;
    const prefix = this.diffPrefix;
    if (data.length > prefix.length && data.compare(prefix, 0, prefix.length, 0, prefix.length) === 0) {
      counters.diffFrames++;
      const diff = this.parseDiff(data);
      counters.diffJoinEntries += diff.joins.length >> 1;
      counters.diffLeaveEntries += diff.leaves.length >> 1;
      if (member.gotState) this.applyDiff(member, diff);
      else member.pending.push(diff);
      return;
    }
    const head = data.toString("latin1", 0, Math.min(data.length, 64 + this.topicJson.length));
    if (head.includes('"presence_state"')) {
      counters.stateFrames++;
      const start = data.indexOf('"presence_state",') + '"presence_state",'.length;
      this.applyState(member, data.toString("latin1", start, data.length - 1));
      return;
    }
    counters.otherFrames++;
    if (!head.includes(this.topicJson)) return; // heartbeat replies
    const [, , , event, payload] = JSON.parse(data.toString("utf8")) as [unknown, unknown, string, string, { status?: string; response?: unknown }];
    if (event === "phx_reply" && member.status === "joining") {
      if (payload.status === "ok") {
        member.status = "joined";
        this.inflight--;
        counters.joins++;
        this.lastJoinAt = performance.now();
      } else {
        this.fatal ??= `join of ${member.user} refused: ${JSON.stringify(payload)}`;
      }
      this.notify();
    } else if (event === "phx_error" || event === "phx_close") {
      this.fatal ??= `channel of ${member.user} got ${event}`;
      this.notify();
    }
  }

  private intern(ref: string): number {
    let id = this.refIds.get(ref);
    // Store a copy: `ref` may be a slice of a whole presence_state payload, which it would keep alive.
    if (id === undefined) this.refIds.set(Buffer.from(ref, "latin1").toString("latin1"), (id = this.refIds.size + 1));
    return id;
  }

  private flatten(side: Record<string, { metas: Array<{ phx_ref: string }> }>): Int32Array {
    const out: number[] = [];
    for (const key in side) {
      const index = this.keyIndex.get(key);
      if (index === undefined) {
        this.foreignKeys++;
        continue;
      }
      for (const meta of side[key]!.metas) out.push(index, this.intern(meta.phx_ref));
    }
    return Int32Array.from(out);
  }

  private parseDiff(frame: Buffer): ParsedDiff {
    const prefix = this.diffPrefix.length;
    const length = frame.length;
    // Cheap cache key: length, the start of the payload and the end of the frame (holds a phx_ref).
    const key = `${length}|${frame.toString("latin1", prefix, Math.min(length, prefix + 96))}|${frame.toString("latin1", Math.max(prefix, length - 64), length)}`;
    const cached = this.diffCache.get(key);
    if (cached !== undefined && cached.frame.equals(frame)) return cached.parsed;
    this.counters.diffParses++;
    const payload = JSON.parse(frame.toString("utf8", prefix, length - 1)) as {
      joins: Record<string, { metas: Array<{ phx_ref: string }> }>;
      leaves: Record<string, { metas: Array<{ phx_ref: string }> }>;
    };
    const parsed: ParsedDiff = { joins: this.flatten(payload.joins), leaves: this.flatten(payload.leaves) };
    if (cached !== undefined) this.diffCacheBytes -= cached.frame.length;
    this.diffCache.delete(key);
    this.diffCache.set(key, { frame: Buffer.from(frame), parsed });
    this.diffCacheBytes += length;
    while (this.diffCache.size > DIFF_CACHE_MAX_ENTRIES || this.diffCacheBytes > DIFF_CACHE_MAX_BYTES) {
      const oldest = this.diffCache.keys().next().value as string;
      this.diffCacheBytes -= this.diffCache.get(oldest)!.frame.length;
      this.diffCache.delete(oldest);
    }
    return parsed;
  }

  /**
   * Applies a presence_state payload (`{"<key>":{"metas":[{..., "phx_ref":"<ref>"}, ...]}, ...}`)
   * with one regex pass instead of JSON.parse: about twice as fast at 10,000 keys and no garbage.
   * Valid here because the bench's metas are `{online_at, phx_ref}` only (no user strings that
   * could contain the patterns); keys and refs are still matched exactly.
   */
  private applyState(member: Member, payload: string): void {
    const pending = member.pending;
    this.resetView(member);
    const scan = STATE_SCAN;
    scan.lastIndex = 0;
    let index: number | undefined;
    for (let match = scan.exec(payload); match !== null; match = scan.exec(payload)) {
      if (match[1] !== undefined) {
        index = this.keyIndex.get(match[1]);
        if (index === undefined) this.foreignKeys++;
      } else if (index !== undefined) {
        this.join(member, index, this.intern(match[2]!));
      }
    }
    member.gotState = true;
    for (const diff of pending) this.applyDiff(member, diff);
  }

  private applyDiff(member: Member, diff: ParsedDiff): void {
    const { joins, leaves } = diff;
    for (let i = 0; i < joins.length; i += 2) this.join(member, joins[i]!, joins[i + 1]!);
    for (let i = 0; i < leaves.length; i += 2) this.leave(member, leaves[i]!, leaves[i + 1]!);
  }

  private join(member: Member, key: number, ref: number): void {
    const current = member.refs[key]!;
    if (current === 0) {
      member.refs[key] = ref;
      if (++member.present === this.count) {
        this.fullMembers++;
        if (this.fullMembers === this.size) {
          this.lastConvergedAt = performance.now();
          if (this.extraMetas === 0) this.lastExactAt = this.lastConvergedAt;
          this.notify();
        }
      }
      return;
    }
    if (current === ref) return;
    const extra = (member.extra ??= new Map());
    const list = extra.get(key);
    if (list === undefined) extra.set(key, [ref]);
    else if (!list.includes(ref)) list.push(ref);
    else return;
    member.extraCount++;
    this.extraMetas++;
  }

  private leave(member: Member, key: number, ref: number): void {
    const current = member.refs[key]!;
    if (current === 0) return;
    const list = member.extra?.get(key);
    if (current === ref) {
      if (list !== undefined) {
        member.refs[key] = list.pop()!;
        if (list.length === 0) member.extra!.delete(key);
        this.dropExtra(member);
        return;
      }
      member.refs[key] = 0;
      if (member.present-- === this.count) this.fullMembers--;
      return;
    }
    if (list === undefined) return;
    const at = list.indexOf(ref);
    if (at === -1) return;
    list.splice(at, 1);
    if (list.length === 0) member.extra!.delete(key);
    this.dropExtra(member);
  }

  private dropExtra(member: Member): void {
    member.extraCount--;
    if (--this.extraMetas === 0 && this.fullMembers === this.size) {
      this.lastExactAt = performance.now();
      this.notify();
    }
  }
}
