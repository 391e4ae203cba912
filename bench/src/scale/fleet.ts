/**
 * The runner's side of the load processes (load.ts): forks them, hands each its share of the
 * connections and its source address, and gathers their statuses and delivery records over IPC,
 * each request bounded by a timeout.
 */
import { fork, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import type { ConnectPlan, DeliveryRecord, LoadCommand, LoadReply, LoadStatus } from "./protocol.js";
import { mergeDeliveries } from "./report.js";

/** One forked load process. */
class LoadProcess {
  readonly child: ChildProcess;
  private waiters: Array<(reply: LoadReply) => boolean> = [];
  exited: string | undefined;

  constructor(script: string) {
    this.child = fork(script, [], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
    this.child.on("message", (reply: LoadReply) => { this.waiters = this.waiters.filter((w) => !w(reply)); });
    this.child.once("exit", (code, signal) => { this.exited = signal !== null ? `signal ${signal}` : `code ${code}`; });
  }

  send(command: LoadCommand): void {
    if (this.exited === undefined && this.child.connected) this.child.send(command);
  }

  /** The next reply `op` (rejects after `timeoutMs`, or when the process exits). */
  next<T extends LoadReply["op"]>(op: T, timeoutMs: number): Promise<Extract<LoadReply, { op: T }>> {
    return new Promise((resolve, reject) => {
      const onExit = (): void => { clearTimeout(timer); reject(new Error(`load process ${this.child.pid} exited (${this.exited}) before answering ${op}`)); };
      const timer = setTimeout(() => { this.child.off("exit", onExit); reject(new Error(`load process ${this.child.pid}: no ${op} within ${timeoutMs} ms`)); }, timeoutMs);
      this.child.once("exit", onExit);
      this.waiters.push((reply) => {
        if (reply.op !== op) return false;
        clearTimeout(timer);
        this.child.off("exit", onExit);
        resolve(reply as Extract<LoadReply, { op: T }>);
        return true;
      });
    });
  }

  ask<T extends "status" | "deliveries">(op: T, timeoutMs: number): Promise<Extract<LoadReply, { op: T }>> {
    const reply = this.next(op, timeoutMs);
    this.send({ op });
    return reply;
  }
}

/** Summed statuses of every load process. */
export interface FleetStatus {
  joined: number;
  open: number;
  failed: number;
  closesAfterJoin: number;
  cpuMs: number;
  frames: number;
  heartbeats: number;
  perProcess: LoadStatus[];
}

/** The load processes of one server's run. */
export class Fleet {
  private readonly loads: LoadProcess[] = [];

  /** Forks `count` load processes (bench/dist/src/scale/load.js). */
  constructor(distSrc: string, count: number) {
    for (let i = 0; i < count; i++) this.loads.push(new LoadProcess(join(distSrc, "scale", "load.js")));
  }

  /** Pids of the load processes. */
  pids(): number[] {
    return this.loads.map((l) => l.child.pid!).filter((pid) => pid !== undefined);
  }

  /**
   * Connects `connections` split evenly (process i from its own source addresses, load/source-addresses.ts); resolves with every
   * process's status once each has finished connecting.
   */
  async connect(base: Omit<ConnectPlan, "first" | "count" | "process" | "concurrency" | "rate" | "tokens">, connections: number,
    totals: { concurrency: number; rate: number }, tokens: string[] | undefined, timeoutMs: number): Promise<LoadStatus[]> {
    const n = this.loads.length;
    const per = Math.ceil(connections / n);
    const replies = this.loads.map(async (load, i) => {
      const first = i * per;
      const count = Math.max(0, Math.min(per, connections - first));
      const reply = load.next("connected", timeoutMs);
      load.send({
        op: "connect",
        plan: {
          ...base, first, count, process: i,
          concurrency: Math.max(1, Math.ceil(totals.concurrency / n)), rate: totals.rate / n,
          ...(tokens !== undefined ? { tokens: tokens.slice(first, first + count) } : {}),
        },
      });
      return (await reply).status;
    });
    return Promise.all(replies);
  }

  /** Every process's status, summed. */
  async status(timeoutMs = 30_000): Promise<FleetStatus> {
    const perProcess = await Promise.all(this.loads.map(async (l) => (await l.ask("status", timeoutMs)).status));
    const sum = (f: (s: LoadStatus) => number): number => perProcess.reduce((a, s) => a + f(s), 0);
    return {
      joined: sum((s) => s.joined), open: sum((s) => s.open), failed: sum((s) => s.failed), closesAfterJoin: sum((s) => s.closesAfterJoin),
      cpuMs: sum((s) => s.cpuMs), frames: sum((s) => s.frames), heartbeats: sum((s) => s.heartbeats), perProcess,
    };
  }

  /** Every process's delivery records. */
  async deliveries(timeoutMs = 30_000): Promise<DeliveryRecord[][]> {
    return Promise.all(this.loads.map(async (l) => (await l.ask("deliveries", timeoutMs)).records));
  }

  /**
   * Polls (every `everyMs`) until each of `seqs` reached `expected` connections or `timeoutMs`
   * passed; resolves with the merged records of the last poll.
   */
  async awaitDeliveries(seqs: readonly number[], expected: number, timeoutMs: number, everyMs = 250): Promise<ReturnType<typeof mergeDeliveries>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const merged = mergeDeliveries(await this.deliveries());
      if (seqs.every((s) => (merged.get(s)?.count ?? 0) >= expected) || Date.now() >= deadline) return merged;
      await new Promise((resolve) => setTimeout(resolve, everyMs));
    }
  }

  /** Tells every process to exit; kills the ones still alive after 1 s. */
  async close(): Promise<void> {
    for (const l of this.loads) l.send({ op: "exit" });
    await new Promise((resolve) => setTimeout(resolve, 1000));
    for (const l of this.loads) if (l.exited === undefined && l.child.exitCode === null) l.child.kill("SIGKILL");
  }
}
