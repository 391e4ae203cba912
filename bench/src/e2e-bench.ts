/**
 * Part 2, end to end: the conformance server as a child process, M raw WebSocket members joining
 * one `presence:*` topic (join phase: time until every member's view holds all M keys, server
 * CPU and RSS, presence_diff frames against the naive one-diff-per-join count), then churn
 * (K random members per second closed and reconnected for a fixed time, then the time until
 * every view converges again). Every wait is bounded; the child is always stopped.
 */
import { monitorEventLoopDelay } from "node:perf_hooks";
import { Fleet, type Counters } from "./fleet.js";
import { machineCpuMs, processCpuMs, processRssBytes, selfCpuMs } from "./machine.js";
import { startServer, type ServerChild } from "./server-child.js";
import { duration, fixed, int, mib, table } from "./table.js";

/**
 * What the runner needs from a fleet of members: the Cinder `Fleet`, or the naive-presence
 * `NaiveFleet` (load/naive-fleet.ts) for the servers without presence.
 */
export interface PresenceFleet {
  readonly members: ReadonlyArray<{ readonly index: number }>;
  readonly counters: Counters;
  readonly fullMembers: number;
  readonly inflight: number;
  readonly extraMetas: number;
  readonly lastConvergedAt: number;
  readonly lastExactAt: number;
  readonly lastJoinAt: number;
  readonly fatal: string | undefined;
  readonly foreignKeys: number;
  readonly errorSamples: readonly string[];
  snapshot(): Counters;
  readyMembers(): number;
  connectAll(indices: Iterable<number>, deadline: number, what: string): Promise<void>;
  reconnect(index: number): void;
  randomJoined(): number | undefined;
  waitFor(predicate: () => boolean, deadline: number, describe: () => string): Promise<void>;
  verifyFull(): { ok: boolean; membersWrong: number; extraMetas: number };
  terminateAll(): void;
}

/** Settings of one end-to-end run. */
export interface E2eSettings {
  members: number;
  batch: number;
  churnRate: number;
  churnSeconds: number;
  timeoutSeconds: number;
  serverScript: string;
  repoRoot: string;
  cpuProfileDir?: string;
  /** Starts the server (default: the conformance server, optionally under --cpu-prof). */
  start?: () => Promise<ServerChild>;
  /** Makes the fleet (default: the Cinder `Fleet` over Phoenix V2). */
  makeFleet?: (port: number, topic: string) => PresenceFleet;
  /** The topic (default `presence:bench-<time>`). */
  topic?: string;
}

/** Measurements of one phase. */
export interface PhaseResult {
  /** Wall time of the phase (join: first connect → every view full; churn: churn start → converged). */
  wallMs: number;
  serverCpuMs: number;
  loadCpuMs: number;
  /** Kernel irq + softirq time (mostly the loopback network), not charged to either process. */
  irqCpuMs: number;
  /** CPU time of everything else on the machine (other programs). */
  otherCpuMs: number;
  /** Cores' worth of capacity over the phase (wall × cores). */
  machineCapacityMs: number;
  serverRssBytes: number;
  loadRssBytes: number;
  diffFrames: number;
  diffFramesPerMember: number;
  /** Distinct diff payloads parsed by the load side (≈ diff broadcasts by the server). */
  distinctDiffs: number;
  stateFrames: number;
  bytesReceived: number;
  diffJoinEntries: number;
  diffLeaveEntries: number;
  loadEventLoopDelayP99Ms: number;
  loadEventLoopDelayMaxMs: number;
}

/** The join phase's extra figures. */
export interface JoinPhaseResult extends PhaseResult {
  /** First connect → last join reply. */
  allJoinedMs: number;
  /** M·(M−1)/2: one diff per join to every member already present. */
  naiveDiffFrames: number;
  /** naive / actual. */
  naiveRatio: number;
}

/** The churn phase's extra figures. */
export interface ChurnPhaseResult extends PhaseResult {
  rate: number;
  seconds: number;
  reconnects: number;
  /** Last reconnect of the churn → every view's key set equals the set of joined users. */
  convergeMs: number;
  /** Metas beyond one per key, over all views, at that moment (stale metas whose leave had not arrived yet). */
  extraMetasAtConvergence: number;
  /** Last reconnect → every view exact (every key with only its current meta); undefined if not within the timeout. */
  exactMs?: number;
  /** Stale metas still in views when the wait for exactness gave up. */
  extraMetasAtTimeout?: number;
}

/** One profile's result; `error` and `progress` tell how far a failed run got. */
export interface E2eResult {
  members: number;
  batch: number;
  topic: string;
  serverPid?: number;
  join?: JoinPhaseResult;
  churn?: ChurnPhaseResult;
  error?: string;
  failedPhase?: string;
  progress?: Record<string, number | string>;
  serverWarnings: string[];
  cpuProfile?: string;
}

const LOOP_RESOLUTION_MS = 10;

interface PhaseStart {
  at: number;
  serverCpu: number;
  loadCpu: number;
  counters: Counters;
  machine: { busy: number; irq: number; total: number };
  loop: ReturnType<typeof monitorEventLoopDelay>;
}

function beginPhase(server: ServerChild, fleet: PresenceFleet): PhaseStart {
  const loop = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
  loop.enable();
  return {
    at: performance.now(), serverCpu: processCpuMs(server.pid), loadCpu: selfCpuMs(), counters: fleet.snapshot(), machine: machineCpuMs(), loop,
  };
}

function endPhase(start: PhaseStart, end: number, server: ServerChild, fleet: PresenceFleet, members: number): PhaseResult {
  start.loop.disable();
  const c = fleet.counters;
  const s = start.counters;
  const diffFrames = c.diffFrames - s.diffFrames;
  const serverCpuMs = processCpuMs(server.pid) - start.serverCpu;
  const loadCpuMs = selfCpuMs() - start.loadCpu;
  const machine = machineCpuMs();
  return {
    wallMs: end - start.at,
    serverCpuMs,
    loadCpuMs,
    irqCpuMs: machine.irq - start.machine.irq,
    otherCpuMs: Math.max(0, machine.busy - start.machine.busy - (machine.irq - start.machine.irq) - serverCpuMs - loadCpuMs),
    machineCapacityMs: machine.total - start.machine.total,
    serverRssBytes: processRssBytes(server.pid),
    loadRssBytes: process.memoryUsage.rss(),
    diffFrames,
    diffFramesPerMember: diffFrames / members,
    distinctDiffs: c.diffParses - s.diffParses,
    stateFrames: c.stateFrames - s.stateFrames,
    bytesReceived: c.bytes - s.bytes,
    diffJoinEntries: c.diffJoinEntries - s.diffJoinEntries,
    diffLeaveEntries: c.diffLeaveEntries - s.diffLeaveEntries,
    // The histogram records whole timer intervals; subtract the resolution to get the lag.
    loadEventLoopDelayP99Ms: Math.max(0, start.loop.percentile(99) / 1e6 - LOOP_RESOLUTION_MS),
    loadEventLoopDelayMaxMs: Math.max(0, start.loop.max / 1e6 - LOOP_RESOLUTION_MS),
  };
}

/** Prints a progress line every few seconds while a phase runs (server and load CPU %, counts). */
function progressTicker(label: string, server: ServerChild, fleet: PresenceFleet, log: (line: string) => void): () => void {
  let lastAt = performance.now();
  let lastServer = processCpuMs(server.pid);
  let lastLoad = selfCpuMs();
  const started = lastAt;
  const timer = setInterval(() => {
    try {
      tick();
    } catch {
      // The server is gone: the failing wait reports it.
    }
  }, 5_000);
  const tick = (): void => {
    const at = performance.now();
    const serverCpu = processCpuMs(server.pid);
    const loadCpu = selfCpuMs();
    const span = at - lastAt;
    log(`  [${label} +${fixed((at - started) / 1000, 0)}s] joined ${int(fleet.readyMembers())}/${int(fleet.members.length)}, ` +
      `full views ${int(fleet.fullMembers)}, in flight ${fleet.inflight}, diff frames ${int(fleet.counters.diffFrames)}, ` +
      `server CPU ${fixed((100 * (serverCpu - lastServer)) / span, 0)}%, load CPU ${fixed((100 * (loadCpu - lastLoad)) / span, 0)}%, ` +
      `server RSS ${mib(processRssBytes(server.pid))}`);
    lastAt = at;
    lastServer = serverCpu;
    lastLoad = loadCpu;
  };
  return () => clearInterval(timer);
}

/** Runs one end-to-end profile with `settings.members` members. Never throws: failures land in `error`. */
export async function runE2e(settings: E2eSettings, log: (line: string) => void): Promise<E2eResult> {
  const { members } = settings;
  const topic = settings.topic ?? `presence:bench-${Date.now().toString(36)}`;
  const result: E2eResult = { members, batch: settings.batch, topic, serverWarnings: [] };
  const timeoutMs = settings.timeoutSeconds * 1000;
  let server: ServerChild | undefined;
  let fleet: PresenceFleet | undefined;
  let phase = "server start";
  let stopTicker = (): void => {};
  try {
    server = settings.start !== undefined ? await settings.start() : await startServer({
      script: settings.serverScript, cwd: settings.repoRoot, timeoutMs: 30_000,
      ...(settings.cpuProfileDir !== undefined ? { cpuProfileDir: settings.cpuProfileDir } : {}),
    });
    result.serverPid = server.pid;
    log(`  server pid ${server.pid} on port ${server.port}; ${int(members)} members, at most ${settings.batch} connecting at once, topic ${topic}`);
    const running = server;
    const live: PresenceFleet = fleet = settings.makeFleet !== undefined ? settings.makeFleet(server.port, topic)
      : new Fleet({ baseUrl: `ws://127.0.0.1:${server.port}/socket/websocket?vsn=2.0.0`, topic, members, batch: settings.batch });

    // Join phase.
    phase = "join";
    stopTicker = progressTicker("join", running, live, log);
    const joinStart = beginPhase(running, live);
    let deadline = joinStart.at + timeoutMs;
    await live.connectAll(live.members.map((m) => m.index), deadline, `join phase after ${settings.timeoutSeconds} s`);
    await live.waitFor(() => live.fullMembers === members, deadline,
      () => `join phase after ${settings.timeoutSeconds} s: ${live.readyMembers()}/${members} members joined with state, ` +
        `${live.fullMembers}/${members} views hold all ${members} keys`);
    const joinEnd = live.lastConvergedAt;
    const joinBase = endPhase(joinStart, joinEnd, running, live, members);
    const naive = (members * (members - 1)) / 2;
    result.join = { ...joinBase, allJoinedMs: live.lastJoinAt - joinStart.at, naiveDiffFrames: naive, naiveRatio: naive / Math.max(1, joinBase.diffFrames) };
    stopTicker();
    log(`  join phase: every view full after ${duration(joinBase.wallMs)}`);

    // Churn phase.
    phase = "churn";
    stopTicker = progressTicker("churn", running, live, log);
    const churnStart = beginPhase(running, live);
    deadline = churnStart.at + settings.churnSeconds * 1000 + timeoutMs;
    let reconnects = 0;
    let lastReconnectAt = churnStart.at;
    if (settings.churnRate > 0 && settings.churnSeconds > 0) {
      const tickMs = Math.max(10, Math.min(100, 1000 / settings.churnRate));
      const churnUntil = churnStart.at + settings.churnSeconds * 1000;
      const total = Math.round(settings.churnRate * settings.churnSeconds);
      await new Promise<void>((resolve, reject) => {
        const timer = setInterval(() => {
          const at = performance.now();
          if (live.fatal !== undefined) {
            clearInterval(timer);
            reject(new Error(live.fatal));
            return;
          }
          // Reconnects owed so far at the steady rate (all `total` of them by the end).
          const owed = at >= churnUntil ? total : Math.floor(((at - churnStart.at) * settings.churnRate) / 1000);
          while (reconnects < owed) {
            const index = live.randomJoined();
            if (index === undefined) break;
            live.reconnect(index);
            reconnects++;
            lastReconnectAt = at;
          }
          if (at >= churnUntil) {
            clearInterval(timer);
            resolve();
          }
        }, tickMs);
      });
    }
    // Convergence is timed from the last reconnect (the end of churn).
    const churnEndAt = lastReconnectAt;
    await live.waitFor(() => live.fullMembers === members && live.readyMembers() === members, deadline,
      () => `churn convergence ${settings.timeoutSeconds} s after churn: ${live.readyMembers()}/${members} members joined with state, ` +
        `${live.fullMembers}/${members} views hold all ${members} keys`);
    const convergedAt = Math.max(live.lastConvergedAt, churnEndAt);
    const churnBase = endPhase(churnStart, convergedAt, running, live, members);
    const check = live.verifyFull();
    if (!check.ok) log(`  warning: ${check.membersWrong} views differ from the joined set after convergence`);
    result.churn = {
      ...churnBase, rate: settings.churnRate, seconds: settings.churnSeconds, reconnects,
      convergeMs: convergedAt - churnEndAt, extraMetasAtConvergence: check.extraMetas,
    };
    log(`  churn phase: ${reconnects} reconnects, key sets converged ${duration(convergedAt - churnEndAt)} after the last reconnect ` +
      `(${int(check.extraMetas)} stale metas still in views)`);
    // Then wait (bounded, not fatal) until the old connections' leaves arrived everywhere too.
    try {
      await live.waitFor(() => live.fullMembers === members && live.extraMetas === 0, deadline,
        () => `${int(live.extraMetas)} stale metas left in views`);
      result.churn.exactMs = Math.max(live.lastExactAt, churnEndAt) - churnEndAt;
      log(`  churn phase: every view exact (one meta per key) ${duration(result.churn.exactMs)} after the last reconnect`);
    } catch (error) {
      result.churn.extraMetasAtTimeout = live.extraMetas;
      log(`  churn phase: views not exact within the timeout: ${error instanceof Error ? error.message : String(error)}`);
    }
    stopTicker();
  } catch (error) {
    stopTicker();
    result.error = error instanceof Error ? error.message : String(error);
    await new Promise((resolve) => setTimeout(resolve, 100)); // let a dying server's exit event arrive
    if (server !== undefined && server.exited() !== undefined) result.error += ` [the server exited: ${server.exited()}]`;
    result.failedPhase = phase;
    log(`  FAILED in ${phase} phase: ${result.error}`);
    if (fleet !== undefined) {
      result.progress = {
        joinedWithState: fleet.readyMembers(), fullViews: fleet.fullMembers, inflight: fleet.inflight,
        diffFrames: fleet.counters.diffFrames, bytesReceived: fleet.counters.bytes, loadCpuMs: Math.round(selfCpuMs()),
        loadRssBytes: process.memoryUsage.rss(),
      };
      if (server !== undefined && server.exited() === undefined) {
        result.progress.serverCpuMs = Math.round(processCpuMs(server.pid));
        result.progress.serverRssBytes = processRssBytes(server.pid);
      }
      if (fleet.errorSamples.length > 0) result.progress.errorSamples = fleet.errorSamples.join("; ");
    }
  } finally {
    fleet?.terminateAll();
    if (server !== undefined) {
      await server.stop();
      result.serverWarnings = server.stderrLines.slice(0, 20);
    }
    if (fleet !== undefined && fleet.foreignKeys > 0) log(`  note: ${fleet.foreignKeys} keys in frames were not bench members`);
  }
  return result;
}

/** The part 2 tables (one column per profile). */
export function e2eTables(results: E2eResult[], ticksPerSecond: number): string {
  const header = ["metric", ...results.map((r) => `M = ${int(r.members)}`)];
  const cell = <T>(pick: (r: E2eResult) => T | undefined, show: (value: T) => string): string[] =>
    results.map((r) => {
      const value = pick(r);
      return value === undefined ? (r.error !== undefined ? "failed" : "-") : show(value);
    });
  const pct = (cpu: number, wall: number): string => `${fixed(cpu / 1000, 2)} s (${fixed((100 * cpu) / wall, 0)}%)`;
  const idle = (p: PhaseResult): string =>
    `${fixed(Math.max(0, (100 * (p.machineCapacityMs - p.serverCpuMs - p.loadCpuMs - p.irqCpuMs - p.otherCpuMs)) / Math.max(1, p.machineCapacityMs)), 0)}%`;
  const join = table(
    `Part 2a: end to end, join phase (conformance server child, raw ws clients, in-flight connects <= ${results[0]?.batch ?? "?"})`,
    header,
    [
      ["first connect -> last join reply", ...cell((r) => r.join?.allJoinedMs, duration)],
      ["first connect -> all views hold M keys", ...cell((r) => r.join?.wallMs, duration)],
      ["server CPU time (% of one core)", ...cell((r) => r.join, (j) => pct(j.serverCpuMs, j.wallMs))],
      ["load process CPU time (% of one core)", ...cell((r) => r.join, (j) => pct(j.loadCpuMs, j.wallMs))],
      ["kernel irq/softirq CPU (% of one core)", ...cell((r) => r.join, (j) => pct(j.irqCpuMs, j.wallMs))],
      ["other programs' CPU (% of one core)", ...cell((r) => r.join, (j) => pct(j.otherCpuMs, j.wallMs))],
      ["machine idle (% of all cores)", ...cell((r) => r.join, idle)],
      ["server RSS at end", ...cell((r) => r.join?.serverRssBytes, mib)],
      ["load process RSS at end", ...cell((r) => r.join?.loadRssBytes, mib)],
      ["presence_diff frames received (all clients)", ...cell((r) => r.join?.diffFrames, int)],
      ["  per member", ...cell((r) => r.join?.diffFramesPerMember, (v) => fixed(v, 1))],
      ["  distinct diff payloads (~ broadcasts)", ...cell((r) => r.join?.distinctDiffs, int)],
      ["naive frames M*(M-1)/2", ...cell((r) => r.join?.naiveDiffFrames, int)],
      ["naive / actual", ...cell((r) => r.join?.naiveRatio, (v) => `${fixed(v, 1)}x`)],
      ["join entries in diffs (all clients)", ...cell((r) => r.join?.diffJoinEntries, int)],
      ["presence_state frames", ...cell((r) => r.join?.stateFrames, int)],
      ["bytes received (payload, all clients)", ...cell((r) => r.join?.bytesReceived, mib)],
      ["load event-loop lag p99 / max", ...cell((r) => r.join, (j) => `${fixed(j.loadEventLoopDelayP99Ms, 0)} / ${fixed(j.loadEventLoopDelayMaxMs, 0)} ms`)],
    ],
  );
  const churn = table(
    `Part 2b: end to end, churn (close + reconnect + rejoin random members), then convergence`,
    header,
    [
      ["churn rate x duration", ...cell((r) => r.churn, (c) => `${fixed(c.rate, 0)}/s x ${fixed(c.seconds, 0)} s`)],
      ["reconnects", ...cell((r) => r.churn?.reconnects, int)],
      ["last reconnect -> all key sets converged", ...cell((r) => r.churn?.convergeMs, duration)],
      ["  stale metas in views at that moment", ...cell((r) => r.churn?.extraMetasAtConvergence, int)],
      ["last reconnect -> all views exact (1 meta/key)", ...cell((r) => r.churn, (c) => c.exactMs !== undefined ? duration(c.exactMs) : `not within timeout (${int(c.extraMetasAtTimeout ?? 0)} stale)`)],
      ["phase wall time", ...cell((r) => r.churn?.wallMs, duration)],
      ["server CPU time (% of one core)", ...cell((r) => r.churn, (c) => pct(c.serverCpuMs, c.wallMs))],
      ["load process CPU time (% of one core)", ...cell((r) => r.churn, (c) => pct(c.loadCpuMs, c.wallMs))],
      ["kernel irq/softirq CPU (% of one core)", ...cell((r) => r.churn, (c) => pct(c.irqCpuMs, c.wallMs))],
      ["other programs' CPU (% of one core)", ...cell((r) => r.churn, (c) => pct(c.otherCpuMs, c.wallMs))],
      ["machine idle (% of all cores)", ...cell((r) => r.churn, idle)],
      ["server RSS at end", ...cell((r) => r.churn?.serverRssBytes, mib)],
      ["presence_diff frames received (all clients)", ...cell((r) => r.churn?.diffFrames, int)],
      ["  per member", ...cell((r) => r.churn?.diffFramesPerMember, (v) => fixed(v, 1))],
      ["  distinct diff payloads (~ broadcasts)", ...cell((r) => r.churn?.distinctDiffs, int)],
      ["join / leave entries in diffs", ...cell((r) => r.churn, (c) => `${int(c.diffJoinEntries)} / ${int(c.diffLeaveEntries)}`)],
      ["presence_state frames (rejoins)", ...cell((r) => r.churn?.stateFrames, int)],
      ["bytes received (payload, all clients)", ...cell((r) => r.churn?.bytesReceived, mib)],
      ["load event-loop lag p99 / max", ...cell((r) => r.churn, (c) => `${fixed(c.loadEventLoopDelayP99Ms, 0)} / ${fixed(c.loadEventLoopDelayMaxMs, 0)} ms`)],
    ],
  );
  const contention = results.flatMap((r) => (["join", "churn"] as const).flatMap((name) => {
    const p = r[name];
    return p !== undefined && p.otherCpuMs > 0.2 * p.wallMs
      ? [`note: M = ${int(r.members)} ${name} phase: other programs used ${fixed((100 * p.otherCpuMs) / p.wallMs, 0)}% of a core on this ` +
        `machine meanwhile; its timings are skewed by contention`]
      : [];
  }));
  const failures = results.filter((r) => r.error !== undefined)
    .map((r) => `M = ${int(r.members)} failed in the ${r.failedPhase} phase: ${r.error}\n  progress: ${JSON.stringify(r.progress ?? {})}`);
  const notes = contention.length > 0 ? [contention.join("\n")] : [];
  return [join, churn, ...notes, ...failures, `(server CPU from /proc/<pid>/task/*/schedstat run time, else /proc/<pid>/stat utime+stime at ${ticksPerSecond} ticks/s)`].join("\n\n");
}
