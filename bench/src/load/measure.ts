/**
 * Measurement helpers of the load process: a latency recorder (all samples up to a capacity,
 * then a uniform reservoir), a CPU window over the server processes, this process and the
 * whole machine (so contention from other programs is reported with every figure), and a
 * bounded wait.
 */
import { machineCpuMs, processesCpuMs, processWrites, selfCpuMs } from "../machine.js";

/** Latency percentiles in milliseconds. */
export interface LatencySummary {
  count: number;
  p50: number;
  p99: number;
  max: number;
  mean: number;
}

/** Delivery latencies (ms). */
export class Latencies {
  private readonly values: Float64Array;
  private kept = 0;
  private seen = 0;
  private maxValue = 0;
  private sum = 0;

  constructor(capacity: number) {
    this.values = new Float64Array(Math.max(1, Math.min(capacity, 4_000_000)));
  }

  record(value: number): void {
    this.seen++;
    this.sum += value;
    if (value > this.maxValue) this.maxValue = value;
    if (this.kept < this.values.length) {
      this.values[this.kept++] = value;
      return;
    }
    const slot = Math.floor(Math.random() * this.seen);
    if (slot < this.values.length) this.values[slot] = value;
  }

  summary(): LatencySummary {
    const sorted = this.values.slice(0, this.kept).sort();
    const at = (p: number): number => (sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!);
    return { count: this.seen, p50: at(0.5), p99: at(0.99), max: this.maxValue, mean: this.seen === 0 ? NaN : this.sum / this.seen };
  }
}

/** CPU over one window of wall time. */
export interface CpuWindow {
  wallMs: number;
  /** User + system time of the server process(es). */
  serverCpuMs: number;
  /** This (load) process. */
  loadCpuMs: number;
  /** Kernel irq + softirq (mostly the loopback network), charged to no process. */
  irqCpuMs: number;
  /** Everything else on the machine: other programs (contention), and any extra processes measured separately. */
  otherCpuMs: number;
  /** Separately measured processes (e.g. redis-server), not part of `otherCpuMs`. */
  extraCpuMs: number;
  /** Cores' worth of capacity over the window (wall × cores). */
  capacityMs: number;
  /** Write syscalls (write, writev, sendmsg…) of the server process(es), from /proc/<pid>/io. */
  serverWriteSyscalls: number;
  /** Bytes the server process(es) wrote (all fds). */
  serverWriteBytes: number;
}

function writesOf(pids: readonly number[]): { syscalls: number; bytes: number } {
  let syscalls = 0;
  let bytes = 0;
  for (const pid of pids) {
    const writes = processWrites(pid);
    syscalls += writes.syscalls;
    bytes += writes.bytes;
  }
  return { syscalls, bytes };
}

/** A started CPU window. */
export interface CpuStart {
  at: number;
  server: number;
  extra: number;
  load: number;
  machine: { busy: number; irq: number; total: number };
  writes: { syscalls: number; bytes: number };
}

/** Measures CPU windows of the processes `serverPids()` (and `extraPids()`, e.g. Redis). */
export class CpuMeter {
  constructor(private readonly serverPids: () => readonly number[], private readonly extraPids: () => readonly number[] = () => []) {}

  begin(): CpuStart {
    const pids = this.serverPids();
    return { at: performance.now(), server: processesCpuMs(pids), extra: processesCpuMs(this.extraPids()), load: selfCpuMs(), machine: machineCpuMs(), writes: writesOf(pids) };
  }

  end(start: CpuStart, endAt = performance.now()): CpuWindow {
    const pids = this.serverPids();
    const server = processesCpuMs(pids) - start.server;
    const writes = writesOf(pids);
    const extra = processesCpuMs(this.extraPids()) - start.extra;
    const load = selfCpuMs() - start.load;
    const machine = machineCpuMs();
    const busy = machine.busy - start.machine.busy;
    const irq = machine.irq - start.machine.irq;
    return {
      wallMs: endAt - start.at,
      serverCpuMs: server,
      loadCpuMs: load,
      irqCpuMs: irq,
      otherCpuMs: Math.max(0, busy - irq - server - load - extra),
      extraCpuMs: extra,
      capacityMs: machine.total - start.machine.total,
      serverWriteSyscalls: writes.syscalls - start.writes.syscalls,
      serverWriteBytes: writes.bytes - start.writes.bytes,
    };
  }
}

/** Thrown by a wait that ran past its deadline. */
export class WaitTimeout extends Error {
  override readonly name = "WaitTimeout";
}

/** Bounded waits woken by `notify()` (or every 50 ms). */
export class Waiter {
  private wakers: Array<() => void> = [];

  notify(): void {
    const wakers = this.wakers;
    if (wakers.length === 0) return;
    this.wakers = [];
    for (const wake of wakers) wake();
  }

  /** Resolves once `predicate()` holds; rejects after `deadline` (performance.now() ms) or when `fatal()` returns a message. */
  async until(predicate: () => boolean, deadline: number, describe: () => string, fatal: () => string | undefined = () => undefined): Promise<void> {
    for (;;) {
      const problem = fatal();
      if (problem !== undefined) throw new Error(`${problem} (while waiting: ${describe()})`);
      if (predicate()) return;
      const left = deadline - performance.now();
      if (left <= 0) throw new WaitTimeout(`timed out: ${describe()}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 50));
        this.wakers.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }
}

/** Sleeps `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
