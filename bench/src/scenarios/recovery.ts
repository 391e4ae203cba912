/**
 * Scenario 6, recovery (issue 16): N subscribers on one stream topic. Cinder runs `--workers 2`
 * with the Redis history store; while 100 messages are published at a steady rate from a
 * connection on one worker, the other worker is killed (SIGKILL; the cluster primary forks a
 * replacement) and each of its clients reconnects (to either worker) and rejoins with the last
 * position it saw. Socket.IO 4 runs one process with `connectionStateRecovery` (in-memory
 * adapter); it cannot survive a restart, so the same share of clients (half) has its connection
 * dropped instead and reconnects with its pid and offset.
 *
 * First a clean phase publishes the same 100 messages with no fault (the baseline), then the
 * fault phase. Reported: time from the fault until every affected client's rejoin answered
 * recovered, until every client had every message, messages lost and duplicated (summed over
 * clients), server and Redis CPU of both phases, and the fault phase's extra server CPU per
 * recovered message (a message published while a client was away, received after its rejoin).
 */
import { join } from "node:path";
import { WebSocket } from "ws";
import { stampedPayload } from "../load/dialects.js";
import { sleep } from "../load/measure.js";
import { publishAtRate } from "../load/publisher.js";
import { RecoveringFleet, type RecoveryDialect } from "../load/recovering.js";
import { childPids, clientPortOwners, machineCpuMs, pidsByName, processCpuMs, selfCpuMs } from "../machine.js";
import { launch, type RunningServer } from "../servers.js";
import { errorText, type Ctx } from "./common.js";
import { redisProblem } from "./cluster.js";

/** One publish phase's CPU and deliveries. */
export interface RecoveryPhase {
  wallMs: number;
  serverCpuMs: number;
  redisCpuMs: number;
  /** The load process (every client and the publisher). */
  loadCpuMs: number;
  /** Every other program on the machine (other work sharing the cores), from /proc/stat. */
  otherCpuMs: number;
  /** Server CPU per process role (Cinder: primary, killed worker, surviving worker, replacement). */
  serverCpuByRole: Record<string, number>;
  deliveries: number;
}

/** Fault → rejoin answered, over the affected clients (ms). */
export interface RejoinSpread {
  p50: number;
  p90: number;
  p99: number;
  max: number;
  /** Connection attempts per affected client until its rejoin answered. */
  meanAttempts: number;
  maxAttempts: number;
}

/** One server's result. */
export interface RecoveryResult {
  server: RecoveryDialect;
  label: string;
  subscribers: number;
  messages: number;
  messagesPerSecond: number;
  /** Clients whose connection the fault dropped. */
  affected: number;
  clean?: RecoveryPhase;
  fault?: RecoveryPhase;
  /** Fault → the last affected client's rejoin answered. */
  allRejoinedMs?: number;
  /** Affected clients whose rejoin said recovered / did not. */
  recoveredClients?: number;
  notRecoveredClients?: number;
  rejoinSpread?: RejoinSpread;
  /** Fault → every client had every message (undefined: some never arrived). */
  allCompleteMs?: number;
  /** Summed over clients, over both phases. */
  lost?: number;
  duplicated?: number;
  /** Messages published while a client was away that it got after its rejoin. */
  recoveredMessages?: number;
  /** (fault − clean server CPU) / recovered messages, µs. */
  extraCpuPerRecoveredUs?: number;
  /** fault-phase server CPU / recovered messages, µs. */
  cpuPerRecoveredUs?: number;
  error?: string;
}

const TOPIC = "rec";

/** A raw publisher connection; resolves once it can publish. */
async function openPublisher(dialect: RecoveryDialect, port: number): Promise<{ ws: WebSocket; publish(seq: number): void }> {
  const path = dialect === "cinder" ? "/socket/websocket?vsn=2.0.0" : "/socket.io/?EIO=4&transport=websocket";
  const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`, { perMessageDeflate: false });
  await new Promise<void>((resolve, reject) => {
    ws.once("error", reject);
    ws.on("open", () => ws.send(dialect === "cinder" ? `["1","1","stream:${TOPIC}","phx_join",{}]` : "40"));
    ws.on("message", (data: Buffer) => {
      const text = data.toString();
      if (text === "2") ws.send("3");
      if ((dialect === "cinder" && text.includes('"phx_reply"')) || (dialect === "socketio" && text.startsWith("40"))) resolve();
    });
  });
  let ref = 1;
  return {
    ws,
    publish(seq) {
      const payload = JSON.stringify(stampedPayload(64, seq));
      ws.send(dialect === "cinder" ? `["1","${++ref}","stream:${TOPIC}","broadcast_from",${payload}]` : `42["pub","${TOPIC}",${payload}]`);
    },
  };
}

/** Server CPU across a window in which a process may die and another start: per pid, its last reading. */
class ProcessCpu {
  private readonly first = new Map<number, number>();
  private readonly last = new Map<number, number>();
  constructor(private readonly pids: () => number[]) {}
  sample(): void {
    for (const pid of this.pids()) {
      try {
        const cpu = processCpuMs(pid);
        if (!this.first.has(pid)) this.first.set(pid, this.started ? 0 : cpu);
        // A killed, not yet reaped process reads lower (its threads' schedstat is gone): keep the highest reading.
        if (cpu >= (this.last.get(pid) ?? 0)) this.last.set(pid, cpu);
      } catch {
        // gone: keep its last reading
      }
    }
  }
  private started = false;
  begin(): void {
    this.first.clear();
    this.last.clear();
    this.sample();
    this.started = true;
  }
  total(): number {
    this.sample();
    let sum = 0;
    for (const [pid, last] of this.last) sum += last - (this.first.get(pid) ?? 0);
    this.started = false;
    return sum;
  }
  /** Per pid, the CPU since `begin` (after `total`). */
  byPid(): Map<number, number> {
    const out = new Map<number, number>();
    for (const [pid, last] of this.last) out.set(pid, last - (this.first.get(pid) ?? 0));
    return out;
  }
}

/** Runs the recovery scenario against one server. Never throws. */
export async function runRecovery(ctx: Ctx, server: RecoveryDialect): Promise<RecoveryResult> {
  const n = ctx.options.recoverySubscribers;
  const messages = ctx.options.recoveryMessages;
  const rate = ctx.options.recoveryRate;
  const label = server === "cinder" ? "Cinder, 2 workers (Redis history)" : "Socket.IO 4 (connectionStateRecovery)";
  const result: RecoveryResult = { server, label, subscribers: n, messages, messagesPerSecond: rate, affected: 0 };
  let running: RunningServer | undefined;
  let fleet: RecoveringFleet | undefined;
  let publisher: { ws: WebSocket; publish(seq: number): void } | undefined;
  const timeout = ctx.options.timeoutSeconds * 1000;
  // With --profile, every server process profiles its whole life (`node --cpu-prof`, written at exit).
  const profileDir = (name: string): { cpuProfileDir?: string } => (ctx.options.cpuProfile ? { cpuProfileDir: join(ctx.profileDir, `recovery-${name}-${ctx.stamp}`) } : {});
  try {
    if (server === "cinder") {
      const problem = await redisProblem(ctx.options.redisUrl);
      if (problem !== undefined) throw new Error(problem);
      running = await launch("cinder", ctx.paths, {
        workers: 2, ...profileDir("cinder"), env: { CINDER_REDIS_URL: ctx.options.redisUrl, CINDER_REDIS_NAMESPACE: `cinder-bench-rec-${ctx.stamp}` },
      });
    } else {
      running = await launch("socketio", ctx.paths, { env: { BENCH_SIO_RECOVERY: "1" }, ...profileDir("socketio") });
    }
    const primary = running.child.pid;
    const serverPids = (): number[] => (server === "cinder" ? [primary, ...childPids(primary)] : [primary]);
    const redisPids = server === "cinder" ? pidsByName("redis-server") : [];
    fleet = new RecoveringFleet({ port: running.port, dialect: server, topic: TOPIC, sequences: 2 * messages, batch: ctx.options.batch });
    const started = performance.now();
    await fleet.grow(n, started + timeout);
    ctx.log(`  ${label}: ${n} subscribers joined in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    publisher = await openPublisher(server, running.port);
    const pub = publisher;

    // Who is affected: Cinder, the clients of the worker that does not hold the publisher.
    let victim: number | undefined;
    let affected: number[];
    const initialWorkers = server === "cinder" ? childPids(primary) : [];
    if (server === "cinder") {
      const workers = initialWorkers;
      const owners = clientPortOwners(workers, running.port);
      const publisherPid = owners.get((pub.ws as unknown as { _socket: { localPort: number } })._socket.localPort);
      victim = workers.find((pid) => pid !== publisherPid);
      if (victim === undefined) throw new Error("could not tell the workers apart");
      affected = fleet.clients.filter((c) => owners.get(c.localPort) === victim).map((c) => c.index);
      ctx.log(`    worker ${victim} holds ${affected.length} subscribers and not the publisher; it is the one killed`);
    } else {
      affected = fleet.clients.filter((c) => c.index % 2 === 1).map((c) => c.index);
    }
    result.affected = affected.length;

    const cpu = new ProcessCpu(serverPids);
    const redisCpu = new ProcessCpu(() => redisPids);
    const publishedAt = new Float64Array(2 * messages);
    const phase = async (from: number, fault: () => void): Promise<RecoveryPhase> => {
      await sleep(300);
      const base = fleet!.deliveries;
      const sampler = setInterval(() => cpu.sample(), 50);
      cpu.begin();
      redisCpu.begin();
      const load0 = selfCpuMs();
      const machine0 = machineCpuMs().busy;
      const t0 = performance.now();
      await publishAtRate(messages, rate, (i) => {
        if (i === Math.floor(messages / 5)) fault();
        publishedAt[from + i] = performance.now();
        pub.publish(from + i);
      });
      const complete = (): boolean => fleet!.clients.every((c) => { for (let s = from; s < from + messages; s++) if (c.seen[s] === 0) return false; return true; });
      try {
        await fleet!.until(() => fleet!.ready === n && complete(), performance.now() + timeout, () => `${fleet!.ready}/${n} ready`);
      } catch (error) {
        ctx.log(`    ${errorText(error)}`);
      }
      const end = Math.max(fleet!.lastDeliveryAt, t0);
      clearInterval(sampler);
      const serverCpuMs = cpu.total();
      const redisCpuMs = redisCpu.total();
      const loadCpuMs = selfCpuMs() - load0;
      const otherCpuMs = Math.max(0, machineCpuMs().busy - machine0 - serverCpuMs - redisCpuMs - loadCpuMs);
      const serverCpuByRole: Record<string, number> = {};
      for (const [pid, ms] of cpu.byPid()) {
        const role = server !== "cinder" ? "server" : pid === primary ? "primary" : pid === victim ? "killed worker" : initialWorkers.includes(pid) ? "surviving worker" : "replacement worker";
        serverCpuByRole[role] = (serverCpuByRole[role] ?? 0) + ms;
      }
      return { wallMs: end - t0, serverCpuMs, redisCpuMs, loadCpuMs, otherCpuMs, serverCpuByRole, deliveries: fleet!.deliveries - base };
    };

    result.clean = await phase(0, () => undefined);
    ctx.log(`    clean: ${result.clean.deliveries} deliveries, server CPU ${result.clean.serverCpuMs.toFixed(0)} ms, Redis ${result.clean.redisCpuMs.toFixed(0)} ms`);
    let faultAt = 0;
    result.fault = await phase(messages, () => {
      faultAt = performance.now();
      if (victim !== undefined) {
        cpu.sample();
        process.kill(victim, "SIGKILL");
      } else {
        for (const index of affected) fleet!.cut(fleet!.clients[index]!);
      }
    });
    const clients = affected.map((i) => fleet!.clients[i]!);
    result.recoveredClients = clients.filter((c) => c.recovered === true).length;
    result.notRecoveredClients = clients.length - result.recoveredClients;
    const rejoined = clients.filter((c) => c.rejoinedAt > 0);
    if (rejoined.length === clients.length && clients.length > 0) result.allRejoinedMs = Math.max(...rejoined.map((c) => c.rejoinedAt)) - faultAt;
    if (rejoined.length > 0) {
      const times = rejoined.map((c) => c.rejoinedAt - faultAt).sort((a, b) => a - b);
      const at = (p: number): number => times[Math.min(times.length - 1, Math.floor(p * times.length))]!;
      const attempts = rejoined.map((c) => c.attemptsToRejoin);
      result.rejoinSpread = {
        p50: at(0.5), p90: at(0.9), p99: at(0.99), max: times[times.length - 1]!,
        meanAttempts: attempts.reduce((a, b) => a + b, 0) / attempts.length, maxAttempts: Math.max(...attempts),
      };
    }
    let lost = 0;
    let duplicated = 0;
    let recoveredMessages = 0;
    for (const c of fleet.clients) {
      for (let s = 0; s < 2 * messages; s++) {
        const count = c.seen[s]!;
        if (count === 0) lost++;
        else if (count > 1) duplicated += count - 1;
      }
    }
    // A recovered message: published after the client's last delivery on its old connection and before its rejoin answered.
    for (const c of clients) {
      if (c.rejoinedAt === 0) continue;
      for (let s = messages; s < 2 * messages; s++) if (publishedAt[s]! >= c.cutAt - 50 && publishedAt[s]! < c.rejoinedAt && c.seen[s]! > 0) recoveredMessages++;
    }
    result.lost = lost;
    result.duplicated = duplicated;
    result.recoveredMessages = recoveredMessages;
    if (lost === 0) result.allCompleteMs = fleet.lastDeliveryAt - faultAt;
    if (recoveredMessages > 0) {
      result.extraCpuPerRecoveredUs = (1000 * (result.fault.serverCpuMs - result.clean.serverCpuMs)) / recoveredMessages;
      result.cpuPerRecoveredUs = (1000 * result.fault.serverCpuMs) / recoveredMessages;
    }
    const spread = result.rejoinSpread;
    if (spread !== undefined) ctx.log(`    rejoin answered after the fault: p50 ${spread.p50.toFixed(0)} ms, p90 ${spread.p90.toFixed(0)}, p99 ${spread.p99.toFixed(0)}, max ${spread.max.toFixed(0)}; attempts mean ${spread.meanAttempts.toFixed(2)}, max ${spread.maxAttempts}`);
    for (const [name, p] of [["clean", result.clean], ["fault", result.fault]] as const) {
      ctx.log(`    ${name}: load process CPU ${p.loadCpuMs.toFixed(0)} ms, other programs ${p.otherCpuMs.toFixed(0)} ms over ${p.wallMs.toFixed(0)} ms; server by role ${Object.entries(p.serverCpuByRole).map(([k, v]) => `${k} ${v.toFixed(0)}`).join(", ")}`);
    }
    ctx.log(`    fault: ${result.affected} affected, ${result.recoveredClients} recovered, ${result.notRecoveredClients} not; all rejoined in ${result.allRejoinedMs?.toFixed(0) ?? "-"} ms; ` +
      `lost ${lost}, duplicated ${duplicated}; ${recoveredMessages} recovered messages; server CPU ${result.fault.serverCpuMs.toFixed(0)} ms (clean ${result.clean.serverCpuMs.toFixed(0)} ms), Redis ${result.fault.redisCpuMs.toFixed(0)} ms`);
  } catch (error) {
    result.error = errorText(error);
    ctx.log(`  ${label}: FAILED: ${result.error}`);
  } finally {
    fleet?.closeAll();
    publisher?.ws.terminate();
    await running?.child.stop(15_000);
    const lines = running?.child.stderrLines ?? [];
    if (lines.length > 5) ctx.log(`    server stderr (${lines.length} lines, first 40):\n${lines.slice(0, 40).map((l) => `      ${l}`).join("\n")}`);
  }
  return result;
}
