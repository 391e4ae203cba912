/**
 * The scale scenario (issue 18; a benchmark, not a test: nothing asserts on timings).
 *
 *   npm run bench:scale -- --server cinder,demo,socketio [--connections 100000] [--workers W] ...
 *
 * For each server (servers.ts) with `--workers W`: P load processes (load.ts, each from its own
 * loopback source addresses, load/source-addresses.ts) connect and join every connection to one topic, at most
 * `--concurrency` in flight and `--rate` started a second (reporting connects+joins/s); then the
 * hold (at least `--hold-seconds` after the last join, Phoenix heartbeats every 30 s): server
 * RSS per process, idle server CPU over `--idle-seconds` with no broadcast, one broadcast to all
 * (time to all), `--broadcasts` more one a second (time-to-all p50/p99), a `--burst` back to back
 * (deliveries/s at saturation), then the rest of the hold; connections dropped during the hold.
 * Prints the side-by-side table and the goals, writes bench/results/scale-<time>.{json,md}.
 * Flags: options.ts.
 */
import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { machineInfo, pidsByName, processesCpuMs, processRssBytes } from "../machine.js";
import { startRedis, redisServerBinary, type RedisProcs } from "../routing/redis-procs.js";
import { redisProblem } from "../scenarios/cluster.js";
import { fixed, int } from "../table.js";
import { Fleet } from "./fleet.js";
import { OptionsError, scaleOptions, USAGE, workersFor, type ScaleOptions } from "./options.js";
import type { ScaleServerId } from "./protocol.js";
import { burstRate, goals, markdown, mergeDeliveries, outcomes, steadySummary, type ScaleResult, type SentBroadcast } from "./report.js";
import { launchScale, SCALE_LABELS, type ScaleServer } from "./servers.js";

const here = dirname(fileURLToPath(import.meta.url)); // bench/dist/src/scale
const distSrc = resolve(here, "..");
const repoRoot = resolve(here, "..", "..", "..", "..");
const log = (line: string): void => console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const loads = (): number[] => loadavg().map((l) => Number(l.toFixed(2)));

function rssByPid(pids: readonly number[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const pid of pids) {
    try {
      out[String(pid)] = processRssBytes(pid);
    } catch {
      // gone
    }
  }
  return out;
}
/** Open descriptors of each of `pids` (a worker at ~20,000 can take no more connections). */
function fdsByPid(pids: readonly number[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const pid of pids) {
    try {
      out[String(pid)] = readdirSync(`/proc/${pid}/fd`).length;
    } catch {
      // gone, or not Linux
    }
  }
  return out;
}
const total = (byPid: Record<string, number>): number => Object.values(byPid).reduce((a, b) => a + b, 0);

/** Server CPU over `seconds` with nothing sent: the whole cluster's, each process's, Redis's and the load's, as % of a core. */
async function idleCpu(server: ScaleServer, fleet: Fleet, redisPids: number[], seconds: number): Promise<ScaleResult["idle"]> {
  const pids = server.pids();
  const each = (): number[] => pids.map((pid) => processesCpuMs([pid]));
  const before = each();
  const redisBefore = processesCpuMs(redisPids);
  const loadBefore = processesCpuMs(fleet.pids());
  const started = performance.now();
  await sleep(seconds * 1000);
  const elapsed = performance.now() - started;
  const after = each();
  const perProcessPercent: Record<string, number> = {};
  pids.forEach((pid, i) => { perProcessPercent[String(pid)] = ((after[i]! - before[i]!) / elapsed) * 100; });
  return {
    windowSeconds: elapsed / 1000,
    cpuPercentOfCore: Object.values(perProcessPercent).reduce((a, b) => a + b, 0),
    perProcessPercent,
    redisPercentOfCore: ((processesCpuMs(redisPids) - redisBefore) / elapsed) * 100,
    loadPercentOfCore: ((processesCpuMs(fleet.pids()) - loadBefore) / elapsed) * 100,
  };
}

/** Sends one broadcast, remembering when; a refused send is recorded in `errors`. */
async function send(server: ScaleServer, sent: SentBroadcast[], errors: string[], seq: number, phase: SentBroadcast["phase"]): Promise<void> {
  const sentAt = Date.now();
  sent.push({ seq, phase, sentAt });
  try {
    await server.broadcast(seq, sentAt);
  } catch (error) {
    if (errors.length < 20) errors.push(`broadcast ${seq}: ${(error as Error).message}`);
  }
}

async function runOne(id: ScaleServerId, options: ScaleOptions, redisUrl: string, redisPids: number[], stamp: string): Promise<ScaleResult> {
  const n = options.connections;
  const workers = workersFor(options);
  const loadStart = loads();
  log(`${SCALE_LABELS[id]}: ${int(n)} connections, ${workers} worker(s), ${options.loadProcesses} load process(es); load average ${loadStart.join(", ")}`);
  const accept = id === "cinder" || id === "demo" ? options.accept : undefined;
  if (accept !== undefined) log(`  accept: ${accept}`);
  const server = await launchScale(id, { repoRoot, distSrc, workers, accept, connections: n, redisUrl, namespace: `scale-${stamp}-${id}` });
  const fleet = new Fleet(distSrc, options.loadProcesses);
  const errors: string[] = [];
  const sent: SentBroadcast[] = [];
  try {
    await sleep(1000);
    log(`  pids ${server.pids().join(", ")} on ${server.base}; connecting`);
    const connectTimeout = (n / Math.max(1, options.rate || 1000)) * 3_000 + 600_000;
    const statuses = await fleet.connect(
      { server: id, base: server.base, topic: server.topic, joinTimeoutMs: options.joinTimeoutSeconds * 1000, heartbeatMs: options.heartbeatSeconds * 1000 },
      n, { concurrency: options.concurrency, rate: options.rate }, server.tokens, connectTimeout);
    for (const s of statuses) for (const e of s.errors) if (!errors.includes(e) && errors.length < 20) errors.push(e);
    const joinedAll = statuses.reduce((a, s) => a + s.joined, 0);
    const firstStart = Math.min(...statuses.map((s) => s.firstStartAt));
    const lastJoin = Math.max(...statuses.map((s) => s.lastJoinAt));
    const connectSeconds = (lastJoin - firstStart) / 1000;
    const connect: ScaleResult["connect"] = {
      joined: joinedAll, failed: statuses.reduce((a, s) => a + s.failed, 0), seconds: connectSeconds,
      perSecond: connectSeconds > 0 ? joinedAll / connectSeconds : NaN,
      joinMsP50: Math.max(...statuses.map((s) => s.joinMs.p50)), joinMsP99: Math.max(...statuses.map((s) => s.joinMs.p99)),
      joinMsMax: Math.max(...statuses.map((s) => s.joinMs.max)),
    };
    log(`  joined ${int(connect.joined)}/${int(n)} (${int(connect.failed)} failed) in ${fixed(connectSeconds, 1)} s: ${int(connect.perSecond)} connects+joins/s; join p50 ${int(connect.joinMsP50)} ms, p99 ${int(connect.joinMsP99)} ms`);

    // The hold: counted from the last join.
    const holdStart = Date.now();
    const atHold = await fleet.status();
    // Let the joins' aftermath (presence diffs, online counts) settle: until the frames the load
    // receives a second are no more than the heartbeat replies (and at least 5 s, at most 120 s).
    const settleStart = Date.now();
    let framesBefore = atHold.frames;
    for (;;) {
      await sleep(1000);
      const now = await fleet.status();
      const perSecond = now.frames - framesBefore;
      framesBefore = now.frames;
      const quiet = perSecond <= (now.open / options.heartbeatSeconds) * 1.5 + 100;
      if ((quiet && Date.now() - settleStart >= 5000) || Date.now() - settleStart >= 120_000) break;
    }
    const settleSeconds = (Date.now() - settleStart) / 1000;
    log(`  settled ${fixed(settleSeconds, 0)} s after the last join`);
    const rssAfterJoin = rssByPid(server.pids());
    log(`  RSS after the joins: ${Object.values(rssAfterJoin).map((b) => fixed(b / 2 ** 20, 0)).join(" + ")} MiB = ${fixed(total(rssAfterJoin) / 2 ** 20, 0)} MiB`);
    const idle = await idleCpu(server, fleet, redisPids, options.idleSeconds);
    log(`  idle: server ${fixed(idle.cpuPercentOfCore, 1)}% of a core (${Object.values(idle.perProcessPercent).map((p) => fixed(p, 1)).join(" + ")}); Redis ${fixed(idle.redisPercentOfCore, 1)}%; load ${fixed(idle.loadPercentOfCore, 1)}%`);

    // One broadcast to all, then one a second, then a burst.
    let expected = (await fleet.status()).open;
    let seq = 0;
    await send(server, sent, errors, seq++, "first");
    let merged = await fleet.awaitDeliveries([0], expected, 60_000);
    const first = outcomes(sent, merged, expected)[0]!;
    log(`  first broadcast: ${first.received}/${expected} received, time to all ${first.complete ? `${int(first.timeToAllMs)} ms` : "incomplete"}`);
    const cpuBefore = processesCpuMs(server.pids());
    const steadyStart = performance.now();
    const steadySeqs: number[] = [];
    for (let i = 0; i < options.broadcasts; i++) {
      const due = steadyStart + i * 1000;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      steadySeqs.push(seq);
      void send(server, sent, errors, seq++, "steady");
    }
    if (steadySeqs.length > 0) merged = await fleet.awaitDeliveries(steadySeqs, expected, 60_000);
    const steadyCpu = (processesCpuMs(server.pids()) - cpuBefore) / 1000;
    const burstSeqs: number[] = [];
    if (options.burst > 0) {
      expected = (await fleet.status()).open;
      for (let i = 0; i < options.burst; i++) {
        burstSeqs.push(seq);
        await send(server, sent, errors, seq++, "burst");
      }
      merged = await fleet.awaitDeliveries(burstSeqs, expected, 120_000);
    }
    merged = mergeDeliveries(await fleet.deliveries());
    const all = outcomes(sent, merged, expected);
    const steady = steadySummary(all);
    const burst = burstRate(all, merged);
    if (steady.count > 0) log(`  steady: ${steady.complete}/${steady.count} complete; time to all p50 ${int(steady.p50Ms)} ms, p99 ${int(steady.p99Ms)} ms; server CPU ${fixed(steadyCpu / steady.count, 2)} s per broadcast`);
    if (burst.count > 0) log(`  burst of ${burst.count}: ${int(burst.deliveries)} deliveries in ${fixed(burst.seconds, 2)} s = ${int(burst.perSecond)}/s`);

    // The rest of the hold.
    const left = holdStart + options.holdSeconds * 1000 - Date.now();
    if (left > 0) {
      log(`  holding ${fixed(left / 1000, 0)} s more`);
      await sleep(left);
    }
    const end = await fleet.status();
    const rssEnd = rssByPid(server.pids());
    const fds = fdsByPid(server.pids());
    const closeCodes: Record<string, number> = {};
    for (const s of end.perProcess) for (const [code, count] of Object.entries(s.closeCodes)) closeCodes[code] = (closeCodes[code] ?? 0) + count;
    const hold = { seconds: (Date.now() - holdStart) / 1000, settleSeconds, dropped: end.closesAfterJoin - atHold.closesAfterJoin, openAtEnd: end.open, closeCodes,
      loadMaxStallMs: Math.max(...end.perProcess.map((s) => s.maxStallMs)) };
    log(`  held ${fixed(hold.seconds, 0)} s: ${int(hold.dropped)} dropped, ${int(hold.openAtEnd)} open${hold.dropped > 0 ? ` (close codes ${JSON.stringify(closeCodes)})` : ""}; RSS ${fixed(total(rssEnd) / 2 ** 20, 0)} MiB; ${int(end.heartbeats)} heartbeats sent; longest load stall ${int(hold.loadMaxStallMs)} ms`);
    for (const s of end.perProcess) for (const e of s.errors) if (!errors.includes(e) && errors.length < 20) errors.push(e);
    const result: ScaleResult = {
      server: id, label: SCALE_LABELS[id], connections: n, workers, ...(accept !== undefined ? { accept } : {}), loadProcesses: options.loadProcesses, connect, hold, idle,
      rss: { afterJoinBytes: rssAfterJoin, endBytes: rssEnd, totalAfterJoinBytes: total(rssAfterJoin), totalEndBytes: total(rssEnd) }, fds,
      firstBroadcast: all.find((o) => o.phase === "first"), steady, burst, broadcasts: all,
      serverCpuSecondsPerBroadcast: steady.count > 0 ? steadyCpu / steady.count : NaN,
      errors, stderr: server.child.stderrLines.slice(0, 20), loadAverage: { start: loadStart, end: loads() },
      ...(server.child.exited() !== undefined ? { serverExit: server.child.exited()! } : {}),
    };
    return result;
  } finally {
    await fleet.close();
    await server.stop();
  }
}

/** A result for a run that could not finish (the server did not start, a load process died). */
function failed(id: ScaleServerId, options: ScaleOptions, error: unknown): ScaleResult {
  const none = NaN;
  return {
    server: id, label: SCALE_LABELS[id], connections: options.connections, workers: workersFor(options), loadProcesses: options.loadProcesses,
    connect: { joined: 0, failed: 0, seconds: none, perSecond: none, joinMsP50: none, joinMsP99: none, joinMsMax: none },
    hold: { seconds: 0, settleSeconds: NaN, dropped: 0, openAtEnd: 0, closeCodes: {}, loadMaxStallMs: NaN },
    idle: { windowSeconds: 0, cpuPercentOfCore: none, perProcessPercent: {}, redisPercentOfCore: none, loadPercentOfCore: none },
    rss: { afterJoinBytes: {}, endBytes: {}, totalAfterJoinBytes: 0, totalEndBytes: 0 }, fds: {},
    firstBroadcast: undefined, steady: steadySummary([]), burst: burstRate([], new Map()), broadcasts: [],
    serverCpuSecondsPerBroadcast: none, errors: [(error as Error).message], stderr: [], loadAverage: { start: loads(), end: loads() },
  };
}

async function main(): Promise<void> {
  let options: ScaleOptions;
  try {
    options = scaleOptions(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof OptionsError)) throw error;
    if (error.message !== "") console.error(`error: ${error.message}\n`);
    console.error(USAGE);
    process.exitCode = error.message === "" ? 0 : 2;
    return;
  }
  const startedAt = new Date();
  const stamp = startedAt.toISOString().replace(/[:.]/g, "-");
  const machine = machineInfo();
  log(`scale: ${options.servers.join(", ")}; fd limit ${machine.fdLimit.soft} (hard ${machine.fdLimit.hard}); load average ${machine.loadAverage.join(", ")}`);
  const clustered = workersFor(options) > 1;
  let redis: RedisProcs | undefined;
  let redisUrl = options.redisUrl;
  let redisPids: number[] = [];
  if (clustered && options.privateRedis) {
    const binary = redisServerBinary();
    if (binary === undefined) throw new Error("--private-redis needs redis-server (not found in /usr/bin or /usr/local/bin)");
    redis = await startRedis(binary, 1, false);
    redisUrl = redis.urls[0]!;
    redisPids = redis.pids;
  } else if (clustered) {
    const problem = await redisProblem(redisUrl);
    if (problem !== undefined) {
      console.error(`error: ${problem}; --workers > 1 needs it (start redis-server, pass --redis URL, or --private-redis)`);
      process.exitCode = 1;
      return;
    }
    redisPids = pidsByName("redis-server");
  }
  const results: ScaleResult[] = [];
  try {
    for (const id of options.servers) {
      try {
        results.push(await runOne(id, options, redisUrl, redisPids, stamp));
      } catch (error) {
        log(`  ${SCALE_LABELS[id]} FAILED: ${(error as Error).message}`);
        results.push(failed(id, options, error));
      }
    }
  } finally {
    await redis?.stop();
  }
  const table = markdown(results);
  console.log(`\n${table}\n`);
  const dir = join(repoRoot, "bench", "results");
  mkdirSync(dir, { recursive: true });
  const base = join(dir, `scale-${stamp}`);
  const redisNote = options.privateRedis ? "a private redis-server" : `${redisUrl} (shared: its CPU includes other clients')`;
  if (options.json) writeFileSync(`${base}.json`, JSON.stringify({ startedAt, options, machine, redis: redisNote, results: results.map((r) => ({ ...r, goals: goals(r) })) }, null, 2));
  if (options.md) {
    const head = `# Scale scenario, ${startedAt.toISOString()}\n\n${machine.cpuCount} × ${machine.cpuModel}, ${fixed(machine.totalMemoryBytes / 2 ** 30, 0)} GiB, node ${machine.node}, commit ${machine.git.commit}${machine.git.dirty ? " (dirty)" : ""}; Redis: ${redisNote}; load average at start ${machine.loadAverage.join(", ")}, at end ${loads().join(", ")}.\n\n`;
    writeFileSync(`${base}.md`, `${head}${table}\n`);
  }
  console.log(`results: ${[options.json ? `${base}.json` : "", options.md ? `${base}.md` : ""].filter(Boolean).join(", ")}`);
}

await main();
