/**
 * One load worker of the presence storm (a `worker_thread`): a `Fleet` holding members
 * `from`..`to` of M, joining at most `batch` at a time from its own source address; posts its
 * progress every 200 ms and when its every view holds all M keys.
 */
import { parentPort, workerData } from "node:worker_threads";
import { Fleet } from "../fleet.js";

/** What the runner gives a worker. */
export interface StormWorkerData {
  baseUrl: string;
  topic: string;
  members: number;
  from: number;
  to: number;
  batch: number;
  localAddress: string;
  timeoutMs: number;
}

/** What a worker reports (times are epoch ms: performance.timeOrigin + now). */
export interface StormProgress {
  ready: number;
  full: number;
  size: number;
  bytes: number;
  stateFrames: number;
  diffFrames: number;
  diffJoinEntries: number;
  diffParses: number;
  lastJoinAt: number;
  convergedAt: number;
  fatal: string | undefined;
  /** Largest heartbeat round trip seen (ms). */
  done: boolean;
}

const data = workerData as StormWorkerData;
const fleet = new Fleet({
  baseUrl: data.baseUrl, topic: data.topic, members: data.members, batch: data.batch,
  slice: { from: data.from, to: data.to }, localAddress: data.localAddress,
});
const size = data.to - data.from;
const epoch = (at: number): number => (at === 0 ? 0 : performance.timeOrigin + at);

function progress(done: boolean): StormProgress {
  const c = fleet.counters;
  return {
    ready: fleet.readyMembers(), full: fleet.fullMembers, size, bytes: c.bytes, stateFrames: c.stateFrames,
    diffFrames: c.diffFrames, diffJoinEntries: c.diffJoinEntries, diffParses: c.diffParses,
    lastJoinAt: epoch(fleet.lastJoinAt), convergedAt: epoch(fleet.lastConvergedAt), fatal: fleet.fatal, done,
  };
}

const ticker = setInterval(() => parentPort!.postMessage(progress(false)), 200);
const deadline = performance.now() + data.timeoutMs;
try {
  await fleet.connectAll(Array.from({ length: size }, (_, j) => j), deadline, "storm joins");
  await fleet.waitFor(() => fleet.fullMembers === size, deadline, () => `${fleet.fullMembers}/${size} views full`);
} catch (error) {
  fleet.fatal ??= error instanceof Error ? error.message : String(error);
}
clearInterval(ticker);
parentPort!.postMessage(progress(true));
// Keep the connections until the runner has every worker's verdict; it terminates the thread.
parentPort!.on("message", () => {
  fleet.terminateAll();
  process.exit(0);
});
