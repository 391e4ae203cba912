/**
 * The big-room bench (issue 12; a benchmark, not a test: nothing asserts on timings).
 *
 *   npm run bench:bigroom -- [--members N] [--full] [--workers W] [--load-processes P]
 *     [--churn-rate K] [--churn-seconds S] [--drop D] [--naive-members M] [--servers cinder,ws]
 *     [--count-interval MS] [--accept shared|primary]
 *
 * N members (default 20,000; `--full` 100,000) on one topic of Cinder in count mode: the
 * conformance server with `--workers W` (node:cluster on one port, joined by Redis; at most
 * ~19,000 connections a worker under the 20,000-fd limit) and `CINDER_BIG_ROOM` on
 * `presence:big:stage`. P load processes (bench/src/load/bigroom-load.ts), each from its own
 * loopback source addresses (load/source-addresses.ts). Measured: server memory per member (RSS of primary + workers, after
 * the joins minus before), presence frames per second per client under churn (K reconnects a
 * second: K joins and K leaves, for S seconds), and the time for every client's count to settle
 * after D members leave at once. Beside it, the naive ws presence (bench/src/servers/ws-server.ts:
 * a full key list to each joiner, one frame to every member per change; one process, so at most
 * ~19,000 members) with M members. `--count-interval` is the policy's `countIntervalMs` (default
 * 1000): every member gets at most one count a period, so N members cost N / period frames a
 * second in all (100,000 a second at 100,000 members and 1 s: more than this 2-core box delivers). Prints a table and writes bench/results/bigroom-<stamp>.json.
 */
import { fork, type ChildProcess } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import type { LoadCommand, LoadCounters, LoadReply } from "./load/bigroom-load.js";
import { machineInfo, processRssBytes, processesCpuMs } from "./machine.js";
import { launch, type RunningServer } from "./servers.js";
import { fixed, int, table } from "./table.js";

const here = dirname(fileURLToPath(import.meta.url)); // bench/dist/src
const repoRoot = resolve(here, "..", "..", "..");
const paths = { repoRoot, distSrc: here };
const log = (line: string): void => console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const { values: args } = parseArgs({
  options: {
    members: { type: "string" }, full: { type: "boolean", default: false }, workers: { type: "string" },
    "load-processes": { type: "string" }, "churn-rate": { type: "string", default: "1000" }, "churn-seconds": { type: "string", default: "10" },
    drop: { type: "string" }, "naive-members": { type: "string" }, servers: { type: "string", default: "cinder,ws" },
    "sample-size": { type: "string", default: "20" }, threshold: { type: "string", default: "500" }, batch: { type: "string", default: "200" },
    "count-interval": { type: "string", default: "1000" },
    redis: { type: "string", default: "redis://127.0.0.1:6379" }, "settle-timeout": { type: "string", default: "60" },
    accept: { type: "string" },
  },
});
if (args.accept !== undefined && args.accept !== "shared" && args.accept !== "primary") {
  console.error(`--accept must be shared or primary, got ${JSON.stringify(args.accept)}`);
  process.exit(2);
}
const accept = args.accept as "shared" | "primary" | undefined;
const members = Number(args.members ?? (args.full ? 100_000 : 20_000));
const PER_WORKER = 16_000;
const PER_LOAD = 18_000;

/** One server's figures. */
interface Result {
  server: string;
  members: number;
  workers: number;
  /** Cinder: who accepted the workers' connections (`--accept`; undefined: the server's default, primary). */
  accept: string | undefined;
  loadProcesses: number;
  joinSeconds: number;
  rssBeforeMiB: number;
  rssAfterMiB: number;
  bytesPerMember: number;
  churn: { rate: number;
    /** From the churn's start until every load process had reported (its reconnects issued and rejoined). */
    seconds: number; reconnects: number;
    /** Until the last reconnect was issued. */
    issuedSeconds: number;
    /** Until every connection was joined again (undefined: some were not within 60 s). */
    rejoinedSeconds: number | undefined;
    /** reconnects / rejoinedSeconds: the churn rate the server actually completed. */
    completedRate: number | undefined;
    framesPerClientPerSecond: number; countFramesPerClientPerSecond: number; diffFramesPerClientPerSecond: number; stateFramesPerClientPerSecond: number; serverCpuSeconds: number; loadCpuSeconds: number;
    /** From the churn's end until every count was right again. */
    lagSeconds: number | undefined;
    /** Every frame from the churn's start until the counts were right, per client per churn second. */
    causedFramesPerClientPerSecond: number;
    /** Server CPU from the churn's start until the counts were right. */
    causedServerCpuSeconds: number };
  settle: { dropped: number; seconds: number | undefined; membersChecked: number };
  errors: string[];
}

class Load {
  readonly child: ChildProcess;
  private waiters: Array<(reply: LoadReply) => boolean> = [];
  constructor() {
    this.child = fork(join(here, "load", "bigroom-load.js"), [], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
    this.child.on("message", (reply: LoadReply) => { this.waiters = this.waiters.filter((w) => !w(reply)); });
  }
  send(command: LoadCommand): void { this.child.send(command); }
  next<T extends LoadReply["op"]>(op: T, timeoutMs: number): Promise<Extract<LoadReply, { op: T }>> {
    return new Promise((resolve_, reject) => {
      const timer = setTimeout(() => reject(new Error(`load process: no ${op} within ${timeoutMs} ms`)), timeoutMs);
      this.waiters.push((reply) => {
        if (reply.op !== op) return false;
        clearTimeout(timer);
        resolve_(reply as Extract<LoadReply, { op: T }>);
        return true;
      });
    });
  }
}

const sum = (list: LoadCounters[]): LoadCounters => list.reduce((a, b) => ({
  frames: a.frames + b.frames, bytes: a.bytes + b.bytes, countFrames: a.countFrames + b.countFrames, diffFrames: a.diffFrames + b.diffFrames,
  stateFrames: a.stateFrames + b.stateFrames, otherFrames: a.otherFrames + b.otherFrames, closes: a.closes + b.closes, errors: a.errors + b.errors, retries: a.retries + b.retries,
}));

async function snapshot(loads: Load[]): Promise<{ counters: LoadCounters; cpuMs: number; joined: number }> {
  const replies = await Promise.all(loads.map(async (l) => { const r = l.next("snapshot", 30_000); l.send({ op: "snapshot" }); return r; }));
  return { counters: sum(replies.map((r) => r.counters)), cpuMs: replies.reduce((a, r) => a + r.cpuMs, 0), joined: replies.reduce((a, r) => a + r.joined, 0) };
}

/** Waits until every load process's members all count `connections`; the latest settle time (ms since epoch). */
async function settle(loads: Load[], connections: number, timeoutMs: number): Promise<{ at: number; members: number } | undefined> {
  try {
    const replies = await Promise.all(loads.map(async (l) => { const r = l.next("settled", timeoutMs); l.send({ op: "target", connections }); return r; }));
    return { at: Math.max(...replies.map((r) => r.at)), members: replies.reduce((a, r) => a + r.members, 0) };
  } catch (error) {
    log(`  not settled: ${(error as Error).message}`);
    return undefined;
  }
}

const rss = (server: RunningServer): number => server.pids().reduce((total, pid) => { try { return total + processRssBytes(pid); } catch { return total; } }, 0);

async function run(id: "cinder" | "ws", n: number): Promise<Result> {
  const workers = id === "cinder" ? Number(args.workers ?? Math.max(2, Math.ceil(n / PER_WORKER))) : 1;
  const processes = Number(args["load-processes"] ?? Math.max(1, Math.ceil(n / PER_LOAD)));
  const drop = Math.min(Number(args.drop ?? 10_000), Math.floor(n / 2));
  const churnRate = Number(args["churn-rate"]);
  const churnSeconds = Number(args["churn-seconds"]);
  const settleTimeout = Number(args["settle-timeout"]) * 1000;
  const namespace = `bench-bigroom-${process.pid}`;
  log(`${id}: ${int(n)} members, ${workers} worker(s)${id === "cinder" ? ` (accept: ${accept ?? "the server's default"})` : ""}, ${processes} load processes`);
  const server = await launch(id, paths, id === "cinder" ? {
    workers, ...(accept !== undefined ? { accept } : {}),
    env: {
      CINDER_REDIS_URL: args.redis!, CINDER_REDIS_NAMESPACE: namespace,
      CINDER_BIG_ROOM: JSON.stringify({ threshold: Number(args.threshold), sampleSize: Number(args["sample-size"]), countIntervalMs: Number(args["count-interval"]) }),
    },
  } : {});
  const loads: Load[] = [];
  const errors: string[] = [];
  try {
    await sleep(1000);
    const rssBefore = rss(server);
    const url = id === "cinder" ? `ws://127.0.0.1:${server.port}/socket/websocket` : `ws://127.0.0.1:${server.port}/`;
    const topic = id === "cinder" ? "presence:big:stage" : "room";
    const per = Math.ceil(n / processes);
    const joinCpuBefore = processesCpuMs(server.pids());
    const started = performance.now();
    for (let p = 0; p < processes; p++) {
      const load = new Load();
      loads.push(load);
      const first = p * per;
      const count = Math.min(per, n - first);
      load.send({ op: "connect", server: id, url, topic, first, count, process: p, batch: Math.max(10, Math.floor(Number(args.batch) / processes)) });
    }
    const connected = await Promise.all(loads.map((l) => l.next("connected", 30 * 60_000)));
    const joined = connected.reduce((a, c) => a + c.joined, 0);
    for (const c of connected) errors.push(...c.errors);
    log(`  joined ${int(joined)}/${int(n)} in ${fixed((performance.now() - started) / 1000, 1)} s, server CPU ${fixed((processesCpuMs(server.pids()) - joinCpuBefore) / 1000, 1)} s, closed ${connected.reduce((a, c) => a + c.closes, 0)}`);
    const converged = await settle(loads, joined, settleTimeout);
    const joinSeconds = (performance.now() - started) / 1000;
    log(`  every count at ${int(joined)}: ${converged === undefined ? "no" : `${fixed(joinSeconds, 1)} s after the first join`}`);
    await sleep(2000);
    const rssAfter = rss(server);

    // Churn: K reconnects a second (K joins and K leaves) spread over the load processes.
    const before = await snapshot(loads);
    const cpuBefore = processesCpuMs(server.pids());
    const churnStart = performance.now();
    const churned = await Promise.all(loads.map(async (l) => { const r = l.next("churned", (churnSeconds + 120) * 1000); l.send({ op: "churn", perSecond: churnRate / processes, seconds: churnSeconds }); return r; }));
    const churnElapsed = (performance.now() - churnStart) / 1000;
    const after = await snapshot(loads);
    const serverCpu = (processesCpuMs(server.pids()) - cpuBefore) / 1000;
    const reconnects = churned.reduce((a, c) => a + c.reconnects, 0);
    const issuedSeconds = Math.max(...churned.map((c) => c.issuedMs)) / 1000;
    const rejoinedSeconds = churned.some((c) => c.rejoinedMs === null) ? undefined : Math.max(...churned.map((c) => c.rejoinedMs ?? 0)) / 1000;
    const completedRate = rejoinedSeconds === undefined ? undefined : reconnects / rejoinedSeconds;
    const perClient = (field: keyof LoadCounters): number => (after.counters[field] - before.counters[field]) / (joined * churnElapsed);
    const presenceFrames = (after.counters.countFrames + after.counters.diffFrames + after.counters.stateFrames
      - before.counters.countFrames - before.counters.diffFrames - before.counters.stateFrames) / (joined * churnElapsed);
    log(`  churn: ${int(reconnects)} reconnects (asked ${int(churnRate)}/s) issued in ${fixed(issuedSeconds, 1)} s, ${rejoinedSeconds === undefined ? "not all rejoined within 60 s" : `all rejoined ${fixed(rejoinedSeconds, 1)} s after the start: ${int(completedRate!)} completed reconnects/s`}; presence frames per client per second ${fixed(presenceFrames, 2)}; server CPU ${fixed(serverCpu, 1)} s`);
    const churnEnd = Date.now();
    const afterChurn = await settle(loads, joined, settleTimeout);
    const lagSeconds = afterChurn === undefined ? undefined : Math.max(0, afterChurn.at - churnEnd) / 1000;
    const caused = await snapshot(loads);
    const causedCpu = (processesCpuMs(server.pids()) - cpuBefore) / 1000;
    const causedFrames = (caused.counters.frames - before.counters.frames) / (joined * churnElapsed);
    log(`  counts right ${lagSeconds === undefined ? "not within the timeout" : `${fixed(lagSeconds, 2)} s`} after the churn ended; frames the churn caused per client per churn second ${fixed(causedFrames, 2)}; server CPU until then ${fixed(causedCpu, 1)} s; reconnects retried after a failed or closed connection ${int(caused.counters.retries - before.counters.retries)}`);

    // D leave at once (spread over the load processes); time until every remaining count is N - D.
    await sleep(2000);
    const share = Math.floor(drop / processes);
    const drops = await Promise.all(loads.map(async (l, i) => { const r = l.next("dropped", 30_000); l.send({ op: "drop", count: i === 0 ? drop - share * (processes - 1) : share }); return r; }));
    const droppedAt = Math.min(...drops.map((d) => d.at));
    const settled = await settle(loads, joined - drop, settleTimeout);
    const settleSeconds = settled === undefined ? undefined : (settled.at - droppedAt) / 1000;
    log(`  ${int(drop)} left at once: every count at ${int(joined - drop)} ${settleSeconds === undefined ? "not within the timeout" : `after ${fixed(settleSeconds, 2)} s`}`);
    return {
      server: id, members: joined, workers, accept: id === "cinder" ? accept ?? "primary" : undefined, loadProcesses: processes, joinSeconds,
      rssBeforeMiB: rssBefore / 2 ** 20, rssAfterMiB: rssAfter / 2 ** 20, bytesPerMember: (rssAfter - rssBefore) / joined,
      churn: {
        rate: churnRate, seconds: churnElapsed, reconnects, issuedSeconds, rejoinedSeconds, completedRate, framesPerClientPerSecond: perClient("frames"),
        countFramesPerClientPerSecond: perClient("countFrames"), diffFramesPerClientPerSecond: perClient("diffFrames"),
        stateFramesPerClientPerSecond: perClient("stateFrames"), serverCpuSeconds: serverCpu, loadCpuSeconds: (after.cpuMs - before.cpuMs) / 1000,
        lagSeconds, causedFramesPerClientPerSecond: causedFrames, causedServerCpuSeconds: causedCpu,
      },
      settle: { dropped: drop, seconds: settleSeconds, membersChecked: settled?.members ?? 0 },
      errors: [...new Set(errors)].slice(0, 5),
    };
  } finally {
    for (const l of loads) { l.send({ op: "exit" }); }
    await sleep(500);
    for (const l of loads) if (l.child.exitCode === null) l.child.kill("SIGKILL");
    await server.child.stop(3000);
  }
}

async function main(): Promise<void> {
  const machine = machineInfo();
  const startedAt = new Date();
  const servers = args.servers!.split(",").map((s) => s.trim()) as Array<"cinder" | "ws">;
  const results: Result[] = [];
  const loadAverages: string[] = [];
  for (const id of servers) {
    const n = id === "cinder" ? members : Number(args["naive-members"] ?? Math.min(members, 5_000));
    loadAverages.push(`${id} start: ${loadavg().map((l) => l.toFixed(2)).join(", ")}`);
    results.push(await run(id, n));
    loadAverages.push(`${id} end: ${loadavg().map((l) => l.toFixed(2)).join(", ")}`);
  }
  const rows = results.map((r) => [
    r.server === "cinder" ? "Cinder (count mode)" : "ws (naive presence)", int(r.members), String(r.workers), fixed(r.joinSeconds, 1),
    int(r.bytesPerMember), fixed(r.churn.framesPerClientPerSecond, 2), fixed(r.churn.causedFramesPerClientPerSecond, 2),
    r.churn.lagSeconds === undefined ? "—" : fixed(r.churn.lagSeconds, 2), fixed(r.churn.causedServerCpuSeconds, 1), r.settle.seconds === undefined ? "—" : fixed(r.settle.seconds, 2), int(r.settle.dropped),
  ]);
  console.log(table("Big room", ["Server", "Members", "Workers", "All counts right after joins (s)", "Server RSS per member (B)",
    "Frames/s per client in churn", "Frames the churn caused /s per client", "Counts right after churn (s)", "Server CPU for the churn (s)", "Settle after drop (s)", "Dropped"], rows));
  console.log(`load average: ${loadAverages.join("; ")}`);
  const dir = join(repoRoot, "bench", "results");
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `bigroom-${startedAt.toISOString().replace(/[:.]/g, "-")}.json`);
  writeFileSync(file, JSON.stringify({ startedAt, args, machine, loadAverages, results }, null, 2));
  console.log(`results: ${file}`);
}

await main();
