/**
 * The scale scenario's figures from the load processes' raw counts (pure functions, tested in
 * bench/test/scale-report.test.ts), the issue's goals, and the side-by-side table.
 *
 * - Time to all of a broadcast: the last receive time over every load process minus the send
 *   time the payload carried; a broadcast that fewer connections received than were open is
 *   incomplete (its time to all is Infinity, and a percentile over it too).
 * - p50 / p99: nearest rank over the steady broadcasts.
 * - Deliveries/s at saturation: a burst of broadcasts sent back to back; every delivery of the
 *   burst over the time from its first send to its last receive.
 * - Connects+joins/s: joins over the time from the first connect started to the last join
 *   acknowledged, across all load processes.
 */
import type { DeliveryRecord } from "./protocol.js";
import { fixed, int } from "../table.js";

/** A broadcast the runner sent. */
export interface SentBroadcast {
  seq: number;
  phase: "first" | "steady" | "burst";
  sentAt: number;
}

/** One broadcast's outcome. */
export interface BroadcastOutcome extends SentBroadcast {
  received: number;
  expected: number;
  complete: boolean;
  /** Last receive − send, ms (Infinity when incomplete). */
  timeToAllMs: number;
  /** First receive − send, ms (NaN when nobody received it). */
  firstMs: number;
}

/** Sums the per-process records of each sequence. */
export function mergeDeliveries(perProcess: readonly (readonly DeliveryRecord[])[]): Map<number, { count: number; first: number; last: number }> {
  const merged = new Map<number, { count: number; first: number; last: number }>();
  for (const records of perProcess) {
    for (const r of records) {
      const found = merged.get(r.seq);
      if (found === undefined) merged.set(r.seq, { count: r.count, first: r.first, last: r.last });
      else {
        found.count += r.count;
        found.first = Math.min(found.first, r.first);
        found.last = Math.max(found.last, r.last);
      }
    }
  }
  return merged;
}

/** Each sent broadcast's outcome, `expected` being the connections open when it was sent. */
export function outcomes(sent: readonly SentBroadcast[], merged: ReadonlyMap<number, { count: number; first: number; last: number }>, expected: number): BroadcastOutcome[] {
  return sent.map((b) => {
    const got = merged.get(b.seq);
    const received = got?.count ?? 0;
    const complete = received >= expected && expected > 0;
    return {
      ...b, received, expected, complete,
      timeToAllMs: complete ? got!.last - b.sentAt : Infinity,
      firstMs: got === undefined ? NaN : got.first - b.sentAt,
    };
  });
}

/** Nearest-rank percentile (q in 0..1) of `values`; NaN for none. */
export function percentile(values: readonly number[], q: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/** Steady-phase time to all: p50, p99, max and how many were complete. */
export function steadySummary(all: readonly BroadcastOutcome[]): { count: number; complete: number; p50Ms: number; p99Ms: number; maxMs: number } {
  const steady = all.filter((o) => o.phase === "steady");
  const times = steady.map((o) => o.timeToAllMs);
  return {
    count: steady.length, complete: steady.filter((o) => o.complete).length,
    p50Ms: percentile(times, 0.5), p99Ms: percentile(times, 0.99), maxMs: times.length === 0 ? NaN : Math.max(...times),
  };
}

/** The burst's deliveries per second (first send → last receive), or NaN without a burst. */
export function burstRate(all: readonly BroadcastOutcome[], merged: ReadonlyMap<number, { count: number; first: number; last: number }>): { count: number; deliveries: number; seconds: number; perSecond: number } {
  const burst = all.filter((o) => o.phase === "burst");
  if (burst.length === 0) return { count: 0, deliveries: 0, seconds: NaN, perSecond: NaN };
  const start = Math.min(...burst.map((o) => o.sentAt));
  let end = start;
  let deliveries = 0;
  for (const o of burst) {
    const got = merged.get(o.seq);
    if (got === undefined) continue;
    deliveries += got.count;
    end = Math.max(end, got.last);
  }
  const seconds = (end - start) / 1000;
  return { count: burst.length, deliveries, seconds, perSecond: seconds > 0 ? deliveries / seconds : NaN };
}

/** Connects+joins per second over all load processes. */
export function connectRate(loads: ReadonlyArray<{ joined: number; firstStartAt: number; lastJoinAt: number }>): { joined: number; seconds: number; perSecond: number } {
  const joined = loads.reduce((a, l) => a + l.joined, 0);
  const withJoins = loads.filter((l) => l.joined > 0);
  if (withJoins.length === 0) return { joined: 0, seconds: NaN, perSecond: 0 };
  const seconds = (Math.max(...withJoins.map((l) => l.lastJoinAt)) - Math.min(...loads.map((l) => l.firstStartAt))) / 1000;
  return { joined, seconds, perSecond: seconds > 0 ? joined / seconds : NaN };
}

/** One server's run, as the JSON records it. */
export interface ScaleResult {
  server: string;
  label: string;
  connections: number;
  workers: number;
  /** Cinder's servers: the `--accept` they ran with, when the run set one. */
  accept?: string;
  loadProcesses: number;
  connect: { joined: number; failed: number; seconds: number; perSecond: number; joinMsP50: number; joinMsP99: number; joinMsMax: number };
  /** `loadMaxStallMs`: the longest a load process's event loop stalled (from its first connect); `settleSeconds`: from the last join until the load received no more than heartbeat replies; `closeCodes`: every close of a joined connection (also before the hold) by code and reason. */
  hold: { seconds: number; settleSeconds: number; dropped: number; openAtEnd: number; closeCodes: Record<string, number>; loadMaxStallMs: number };
  idle: { windowSeconds: number; cpuPercentOfCore: number; perProcessPercent: Record<string, number>; redisPercentOfCore: number; loadPercentOfCore: number };
  rss: { afterJoinBytes: Record<string, number>; endBytes: Record<string, number>; totalAfterJoinBytes: number; totalEndBytes: number };
  /** Open descriptors of each server process at the end of the hold (a process may hold 20,000). */
  fds: Record<string, number>;
  firstBroadcast: BroadcastOutcome | undefined;
  steady: ReturnType<typeof steadySummary>;
  burst: ReturnType<typeof burstRate>;
  broadcasts: BroadcastOutcome[];
  serverCpuSecondsPerBroadcast: number;
  errors: string[];
  serverExit?: string;
  stderr: string[];
  loadAverage: { start: number[]; end: number[] };
}

/** A goal of the issue and whether a run met it. */
export interface GoalCheck {
  goal: string;
  value: string;
  met: boolean;
}

const ms = (value: number | undefined): string => value === undefined || Number.isNaN(value) ? "—" : Number.isFinite(value) ? `${int(value)} ms` : "incomplete";

/** The issue's goals for one run. */
export function goals(r: ScaleResult): GoalCheck[] {
  const total = Math.max(r.rss.totalAfterJoinBytes, r.rss.totalEndBytes);
  // Holding and memory mean something only for a run that got everyone in.
  const allJoined = r.connections > 0 && r.connect.joined === r.connections;
  return [
    { goal: `all ${int(r.connections)} joined`, value: `${int(r.connect.joined)} joined, ${int(r.connect.failed)} failed`, met: allJoined },
    { goal: "≥ 2,000 connects+joins/s", value: `${int(r.connect.perSecond)}/s`, met: r.connect.perSecond >= 2000 },
    { goal: "held, 0 dropped", value: `${int(r.hold.dropped)} dropped in ${int(r.hold.seconds)} s`, met: allJoined && r.hold.seconds > 0 && r.hold.dropped === 0 },
    { goal: "a broadcast to all in < 2 s", value: ms(r.firstBroadcast?.timeToAllMs), met: (r.firstBroadcast?.timeToAllMs ?? Infinity) < 2000 },
    { goal: "1 broadcast/s, time-to-all p99 < 2 s", value: ms(r.steady.p99Ms), met: r.steady.count > 0 && r.steady.p99Ms < 2000 },
    { goal: "idle server CPU ≤ 5% of a core", value: `${fixed(r.idle.cpuPercentOfCore, 1)}%`, met: r.idle.cpuPercentOfCore <= 5 },
    { goal: "< 2.5 GB RSS, all server processes", value: `${fixed(total / 2 ** 20, 0)} MiB`, met: allJoined && total < 2.5e9 },
  ];
}

const mibOf = (bytes: number): string => `${fixed(bytes / 2 ** 20, 0)} MiB`;

/** The side-by-side table (one column per server) as Markdown. */
export function markdown(results: readonly ScaleResult[]): string {
  const rows: Array<[string, (r: ScaleResult) => string]> = [
    ["Connections (target)", (r) => int(r.connections)],
    ["Workers / load processes", (r) => `${r.workers}${r.accept !== undefined ? ` (accept ${r.accept})` : ""} / ${r.loadProcesses}`],
    ["Joined (failed)", (r) => `${int(r.connect.joined)} (${int(r.connect.failed)})`],
    ["Connects+joins/s", (r) => int(r.connect.perSecond)],
    ["Join latency p50 / p99 (ms)", (r) => `${int(r.connect.joinMsP50)} / ${int(r.connect.joinMsP99)}`],
    ["Held (s), dropped", (r) => `${int(r.hold.seconds)}, ${int(r.hold.dropped)}${r.hold.dropped > 0 ? ` (codes ${Object.entries(r.hold.closeCodes).map(([c, n]) => `${c}: ${int(n)}`).join(", ")})` : ""}`],
    ["Idle server CPU (% of a core)", (r) => fixed(r.idle.cpuPercentOfCore, 1)],
    ["RSS, all server processes", (r) => mibOf(Math.max(r.rss.totalAfterJoinBytes, r.rss.totalEndBytes))],
    ["RSS per process (end)", (r) => Object.values(r.rss.endBytes).map((b) => fixed(b / 2 ** 20, 0)).join(" + ") + " MiB"],
    ["Descriptors per process (end)", (r) => Object.values(r.fds).map((n) => int(n)).join(" + ") || "—"],
    ["First broadcast: time to all", (r) => ms(r.firstBroadcast?.timeToAllMs)],
    ["Steady 1/s: time to all p50 / p99", (r) => `${ms(r.steady.p50Ms)} / ${ms(r.steady.p99Ms)} (${r.steady.complete}/${r.steady.count} complete)`],
    ["Burst: deliveries/s at saturation", (r) => Number.isNaN(r.burst.perSecond) ? "—" : `${int(r.burst.perSecond)} (${r.burst.count} broadcasts)`],
    ["Server CPU per broadcast (s)", (r) => fixed(r.serverCpuSecondsPerBroadcast, 2)],
    ["Goals met", (r) => { const g = goals(r); return `${g.filter((x) => x.met).length}/${g.length}`; }],
  ];
  const header = `| | ${results.map((r) => r.label).join(" | ")} |\n| --- |${results.map(() => " ---: |").join("")}`;
  const body = rows.map(([name, cell]) => `| ${name} | ${results.map(cell).join(" | ")} |`).join("\n");
  const goalLines = results.map((r) => `**${r.label}**: ${goals(r).map((g) => `${g.met ? "✓" : "✗"} ${g.goal} (${g.value})`).join("; ")}`).join("\n\n");
  const notes = results.filter((r) => r.errors.length > 0 || r.serverExit !== undefined)
    .map((r) => `**${r.label}** errors: ${[...(r.serverExit !== undefined ? [`server exited: ${r.serverExit}`] : []), ...r.errors].join("; ")}`).join("\n\n");
  return [header, body, "", goalLines, ...(notes === "" ? [] : ["", notes])].join("\n");
}
