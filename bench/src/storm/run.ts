/**
 * The presence storm (issue 12): M members join one `presence:*` topic of the conformance server
 * in batches, the load split over worker threads (each its own 127.0.0.x source address), until
 * every member's view holds all M keys; server CPU-seconds and wall time. Then, in the same run,
 * the load-side floor: the same workers receive and decode what every member must receive (the
 * state of those joined before it, the diffs of those after: about M²/2 entries each way) from a
 * trivial server that sends prebuilt shared frames (replay-server.ts). Prints a table and writes
 * `results/storm-<time>.json`.
 *
 *   node dist/src/storm/run.js --members 10000 --workers 2 --batch 50 --timeout 600
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { Worker } from "node:worker_threads";
import { machineCpuMs, processCpuMs, processRssBytes, selfCpuMs } from "../machine.js";
import { startServer } from "../server-child.js";
import type { StormProgress, StormWorkerData } from "./worker.js";

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = join(here, "..", "..", "..", "..");
const { values } = parseArgs({
  options: {
    members: { type: "string", default: "2000" },
    workers: { type: "string", default: "2" },
    batch: { type: "string", default: "50" },
    timeout: { type: "string", default: "600" },
    group: { type: "string" },
    "skip-floor": { type: "boolean", default: false },
    "skip-cinder": { type: "boolean", default: false },
    /** Write a V8 CPU profile of the server under results/profiles/. */
    profile: { type: "boolean", default: false },
    /** Another build of the conformance server to measure (e.g. an older commit's dist/src/server.js). */
    "server-script": { type: "string" },
  },
});
const members = Number(values.members);
const workers = Math.max(1, Number(values.workers));
const batch = Number(values.batch);
const timeoutMs = Number(values.timeout) * 1000;

/** One phase's outcome. */
interface PhaseOutcome {
  complete: boolean;
  error?: string;
  /** First connect → every view full (or the timeout). */
  wallMs: number;
  /** First connect → last join reply. */
  allJoinedMs: number;
  serverCpuMs: number;
  /** Of which in the kernel (stime: mostly socket writes over loopback) and in user space (utime). */
  serverSystemMs: number;
  serverUserMs: number;
  serverRssBytes: number;
  loadCpuMs: number;
  machineBusyMs: number;
  bytes: number;
  stateFrames: number;
  diffFrames: number;
  diffJoinEntries: number;
  diffParses: number;
  fullViews: number;
}

function log(line: string): void {
  console.log(`[storm ${new Date().toISOString().slice(11, 19)}] ${line}`);
}

/** Runs the fleet over `workers` threads against `baseUrl`; `serverPid` is measured. */
async function runFleet(name: string, baseUrl: string, topic: string, serverPid: number): Promise<PhaseOutcome> {
  const startedAt = performance.timeOrigin + performance.now();
  const serverCpu0 = processCpuMs(serverPid);
  const split0 = userSystemMs(serverPid);
  const load0 = selfCpuMs();
  const machine0 = machineCpuMs().busy;
  const latest: StormProgress[] = [];
  const threads: Worker[] = [];
  const tickers: NodeJS.Timeout[] = [];
  const per = Math.ceil(members / workers);
  const finished = await new Promise<boolean>((resolve) => {
    let done = 0;
    for (let k = 0; k < workers; k++) {
      const from = k * per;
      const to = Math.min(members, from + per);
      const data: StormWorkerData = {
        baseUrl, topic, members, from, to, batch: Math.max(1, Math.round(batch / workers)),
        localAddress: `127.0.0.${2 + k}`, timeoutMs,
      };
      const worker = new Worker(join(here, "worker.js"), { workerData: data });
      threads.push(worker);
      worker.on("message", (progress: StormProgress) => {
        latest[k] = progress;
        if (progress.done && ++done === workers) resolve(latest.every((p) => p.fatal === undefined && p.full === p.size));
      });
      worker.on("error", (error) => {
        latest[k] = { ...(latest[k] ?? emptyProgress(to - from)), fatal: String(error), done: true };
        if (++done === workers) resolve(false);
      });
    }
    const ticker = setInterval(() => {
      const sum = total(latest);
      log(`${name} +${((performance.timeOrigin + performance.now() - startedAt) / 1000).toFixed(0)}s: joined ${sum.ready}/${members}, ` +
        `full views ${sum.full}, ${(sum.bytes / 2 ** 20).toFixed(0)} MiB received, server CPU ${((processCpuMs(serverPid) - serverCpu0) / 1000).toFixed(1)} s, load ${loadavg()[0]!.toFixed(1)}`);
    }, 10_000);
    ticker.unref();
    tickers.push(ticker);
  });
  for (const ticker of tickers.splice(0)) clearInterval(ticker);
  const sum = total(latest);
  const end = finished ? Math.max(...latest.map((p) => p.convergedAt)) : performance.timeOrigin + performance.now();
  const outcome: PhaseOutcome = {
    complete: finished,
    ...(finished ? {} : { error: latest.map((p) => p?.fatal).filter((f) => f !== undefined).join("; ") || "incomplete" }),
    wallMs: end - startedAt,
    allJoinedMs: Math.max(...latest.map((p) => p.lastJoinAt)) - startedAt,
    serverCpuMs: processCpuMs(serverPid) - serverCpu0,
    serverSystemMs: userSystemMs(serverPid).system - split0.system,
    serverUserMs: userSystemMs(serverPid).user - split0.user,
    serverRssBytes: processRssBytes(serverPid),
    loadCpuMs: selfCpuMs() - load0,
    machineBusyMs: machineCpuMs().busy - machine0,
    bytes: sum.bytes, stateFrames: sum.stateFrames, diffFrames: sum.diffFrames, diffJoinEntries: sum.diffJoinEntries,
    diffParses: sum.diffParses, fullViews: sum.full,
  };
  for (const thread of threads) thread.postMessage("stop");
  await Promise.all(threads.map((thread) => new Promise((resolve) => { thread.once("exit", resolve); setTimeout(resolve, 5_000).unref(); })));
  return outcome;
}

/** utime and stime of `pid` in ms (/proc/<pid>/stat, clock ticks of 10 ms). */
function userSystemMs(pid: number): { user: number; system: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return { user: Number(fields[11]) * 10, system: Number(fields[12]) * 10 };
}

function emptyProgress(size: number): StormProgress {
  return { ready: 0, full: 0, size, bytes: 0, stateFrames: 0, diffFrames: 0, diffJoinEntries: 0, diffParses: 0, lastJoinAt: 0, convergedAt: 0, fatal: undefined, done: false };
}

function total(progress: StormProgress[]): StormProgress {
  const sum = emptyProgress(0);
  for (const p of progress) {
    if (p === undefined) continue;
    sum.ready += p.ready; sum.full += p.full; sum.size += p.size; sum.bytes += p.bytes; sum.stateFrames += p.stateFrames;
    sum.diffFrames += p.diffFrames; sum.diffJoinEntries += p.diffJoinEntries; sum.diffParses += p.diffParses;
  }
  return sum;
}

/** Starts the replay server; resolves with it and its port. */
async function startReplay(group: number, topic: string): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, [join(here, "replay-server.js"), String(members), String(group), topic], { stdio: ["ignore", "pipe", "inherit"] });
  const port = await new Promise<number>((resolve, reject) => {
    let text = "";
    child.stdout!.on("data", (chunk: Buffer) => {
      text += chunk.toString();
      const match = /replay listening on (\d+)/.exec(text);
      if (match !== null) resolve(Number(match[1]));
    });
    child.once("exit", (code) => reject(new Error(`replay server exited (${code})`)));
    setTimeout(() => reject(new Error("replay server did not start")), 120_000).unref();
  });
  return { child, port };
}

const result: Record<string, unknown> = {
  members, workers, batch, cores: cpus().length, node: process.version, startedAt: new Date().toISOString(), loadBefore: loadavg(),
};
log(`${members} members, ${workers} load worker threads, batches of ${batch}; load average ${loadavg().map((v) => v.toFixed(1)).join(" ")}`);
let group = values.group !== undefined ? Number(values.group) : 0;

if (!values["skip-cinder"]) {
  const server = await startServer({
    script: values["server-script"] ?? join(repoRoot, "apps", "conformance", "dist", "src", "server.js"), cwd: repoRoot, timeoutMs: 30_000,
    ...(values.profile ? { cpuProfileDir: join(repoRoot, "bench", "results", "profiles") } : {}),
  });
  const topic = `presence:storm-${Date.now().toString(36)}`;
  try {
    const cinder = await runFleet("cinder", `ws://127.0.0.1:${server.port}/socket/websocket?vsn=2.0.0`, topic, server.pid);
    result.cinder = cinder;
    result.loadAfterCinder = loadavg();
    log(`cinder: ${cinder.complete ? "every view full" : `INCOMPLETE (${cinder.error})`} after ${(cinder.wallMs / 1000).toFixed(1)} s, ` +
      `server CPU ${(cinder.serverCpuMs / 1000).toFixed(1)} s (user ${(cinder.serverUserMs / 1000).toFixed(1)}, system ${(cinder.serverSystemMs / 1000).toFixed(1)}), load CPU ${(cinder.loadCpuMs / 1000).toFixed(1)} s, ${(cinder.bytes / 2 ** 30).toFixed(2)} GiB received, ` +
      `${cinder.diffFrames} diff frames (${(cinder.diffJoinEntries / Math.max(1, cinder.diffFrames)).toFixed(1)} joins each)`);
    if (group === 0 && cinder.diffFrames > 0) group = Math.max(1, Math.round(cinder.diffJoinEntries / cinder.diffFrames));
  } finally {
    await server.stop();
  }
}

if (!values["skip-floor"]) {
  if (group === 0) group = 50;
  const topic = "presence:replay";
  const replay = await startReplay(group, topic);
  try {
    const floor = await runFleet("floor", `ws://127.0.0.1:${replay.port}/socket/websocket?vsn=2.0.0`, topic, replay.child.pid!);
    result.floor = { ...floor, group };
    result.loadAfterFloor = loadavg();
    log(`floor: ${floor.complete ? "every view full" : `INCOMPLETE (${floor.error})`} after ${(floor.wallMs / 1000).toFixed(1)} s ` +
      `(load CPU ${(floor.loadCpuMs / 1000).toFixed(1)} s, replay server CPU ${(floor.serverCpuMs / 1000).toFixed(1)} s, ${(floor.bytes / 2 ** 30).toFixed(2)} GiB, ${group} joins per diff)`);
  } finally {
    replay.child.kill("SIGKILL");
  }
}
const cinder = result.cinder as PhaseOutcome | undefined;
const floor = result.floor as PhaseOutcome | undefined;
if (cinder !== undefined && floor !== undefined) {
  result.wallOverFloor = cinder.wallMs / floor.wallMs;
  log(`every view complete: cinder ${(cinder.wallMs / 1000).toFixed(1)} s vs floor ${(floor.wallMs / 1000).toFixed(1)} s = ${(cinder.wallMs / floor.wallMs).toFixed(2)}x`);
}
const dir = join(repoRoot, "bench", "results");
mkdirSync(dir, { recursive: true });
const file = join(dir, `storm-${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
log(`wrote ${file}`);
process.exit(0);
