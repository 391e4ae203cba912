/**
 * What every bench client fleet shares: the members' connection bookkeeping (in flight, joined,
 * fatal errors), counters, a bounded wait woken by progress, batched connecting and churn
 * reconnects. A fleet supplies how one member connects and joins.
 */
import type { WebSocket } from "ws";

/** Totals that phases snapshot and subtract. */
export interface Counters {
  /** presence_diff frames received (summed over members). */
  diffFrames: number;
  /** presence_state frames received. */
  stateFrames: number;
  /** Any other frame (join replies, heartbeat replies). */
  otherFrames: number;
  /** Payload bytes of every frame received. */
  bytes: number;
  /** presence_diff frames actually parsed (distinct diff payloads, as long as the cache kept up). */
  diffParses: number;
  /** Join entries (key, phx_ref) carried by diff frames, summed over members. */
  diffJoinEntries: number;
  /** Leave entries carried by diff frames, summed over members. */
  diffLeaveEntries: number;
  /** Successful joins (phx_reply ok on the presence topic). */
  joins: number;
  /** Connections closed by the server or the network, not by us. */
  unexpectedCloses: number;
  /** WebSocket errors. */
  errors: number;
}

/** Thrown by a wait that ran past its deadline. */
export class BenchTimeout extends Error {
  override readonly name = "BenchTimeout";
}

/** A uniformly random index of a joined member among the first `count` (undefined if none found after a few tries). */
export function randomJoinedIndex(members: ReadonlyArray<{ readonly status: string }>, count: number): number | undefined {
  for (let attempt = 0; attempt < 64; attempt++) {
    const index = Math.floor(Math.random() * count);
    if (members[index]!.status === "joined") return index;
  }
  return undefined;
}

/**
 * A fleet's bounded wait: resolves once `predicate()` holds, rejects with `BenchTimeout` after
 * `deadline` or at once on the fleet's fatal error. `park` registers a waker the fleet calls
 * when something arrives, so the wait re-checks without polling hard.
 */
export async function waitForFleet(fleet: { readonly fatal: string | undefined }, park: (wake: () => void) => void,
  predicate: () => boolean, deadline: number, describe: () => string): Promise<void> {
  for (;;) {
    if (fleet.fatal !== undefined) throw new Error(`${fleet.fatal} (while waiting: ${describe()})`);
    if (predicate()) return;
    const left = deadline - performance.now();
    if (left <= 0) throw new BenchTimeout(`timed out: ${describe()}`);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, Math.min(left, 100));
      park(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}

/** What a fleet keeps per member. */
export interface FleetMember {
  ws: WebSocket | null;
  status: string;
  generation: number;
  gotState: boolean;
}

/** The bookkeeping shared by the Cinder presence fleet and the naive-presence fleet. */
export abstract class FleetBase<M extends FleetMember> {
  /** The simulated members. */
  abstract readonly members: M[];
  /** Frames and bytes received. */
  readonly counters: Counters = {
    diffFrames: 0, stateFrames: 0, otherFrames: 0, bytes: 0, diffParses: 0, diffJoinEntries: 0, diffLeaveEntries: 0,
    joins: 0, unexpectedCloses: 0, errors: 0,
  };
  /** Members whose current connection has every one of the M keys. */
  fullMembers = 0;
  /** Connections started and not yet joined (or failed). */
  inflight = 0;
  /** When `fullMembers` last became M (performance.now()): every view holds every key. */
  lastConvergedAt = 0;
  /** When every view last became exact: every key, each with exactly one meta. */
  lastExactAt = 0;
  /** When the last join reply arrived. */
  lastJoinAt = 0;
  /** The first fatal problem (a refused join, a protocol surprise); waits fail fast on it. */
  fatal: string | undefined;
  /** Keys in frames that are not bench members (there should be none). */
  foreignKeys = 0;
  /** The first few connection errors. */
  readonly errorSamples: string[] = [];
  private wakers: Array<() => void> = [];

  /** The number of members. */
  protected abstract readonly count: number;
  /** Most connect+joins in flight at once. */
  protected abstract readonly batch: number;
  /** Starts connecting and joining `member`. */
  protected abstract connect(member: M): void;

  /** A copy of the counters. */
  snapshot(): Counters {
    return { ...this.counters };
  }

  /** Members currently joined with their presence state received. */
  readyMembers(): number {
    let ready = 0;
    for (const member of this.members) if (member.status === "joined" && member.gotState) ready++;
    return ready;
  }

  /** Connects and joins the given members, at most `batch` in flight at once, as fast as the server accepts. */
  async connectAll(indices: Iterable<number>, deadline: number, what: string): Promise<void> {
    for (const index of indices) {
      if (this.inflight >= this.batch) {
        await this.waitFor(() => this.inflight < this.batch, deadline,
          () => `${what}: ${this.inflight} connections still connecting/joining, ${this.readyMembers()}/${this.count} joined`);
      }
      this.connect(this.members[index]!);
    }
  }

  /** Closes member `index`'s connection (a normal close) and reconnects + rejoins it at once. */
  reconnect(index: number): void {
    const member = this.members[index]!;
    const old = member.ws;
    if (member.status === "connecting" || member.status === "joining") this.inflight--;
    member.ws = null;
    if (old !== null) old.close(1000, "churn");
    this.connect(member);
  }

  /** A uniformly random member that is joined (undefined if none found after a few tries). */
  randomJoined(): number | undefined {
    return randomJoinedIndex(this.members, this.count);
  }

  /** Resolves once `predicate()` holds; rejects with `BenchTimeout(describe())` after `deadline`, or on a fatal error. */
  waitFor(predicate: () => boolean, deadline: number, describe: () => string): Promise<void> {
    return waitForFleet(this, (wake) => this.wakers.push(wake), predicate, deadline, describe);
  }

  /** Closes every connection at once (no close handshake). */
  terminateAll(): void {
    for (const member of this.members) {
      member.generation++;
      member.status = "closed";
      member.ws?.terminate();
      member.ws = null;
    }
    this.inflight = 0;
  }

  /** Wakes every pending `waitFor` to re-check its predicate. */
  protected notify(): void {
    const wakers = this.wakers;
    if (wakers.length === 0) return;
    this.wakers = [];
    for (const wake of wakers) wake();
  }
}
