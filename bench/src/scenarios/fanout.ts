/**
 * Scenario 1, fan-out: N subscribers on one topic, one publisher. For 64 B and 4 KB payloads:
 * a fixed rate (messages/s = delivery rate / N) and a burst (K messages back to back). Server
 * CPU per delivery, deliveries per second, delivery latency p50/p99/max.
 */
import { dialectOf, type ServerId } from "../load/dialects.js";
import { CpuMeter, sleep } from "../load/measure.js";
import { openPublisher, type Publisher } from "../load/publisher.js";
import { Swarm } from "../load/swarm.js";
import { launch, type RunningServer } from "../servers.js";
import { errorText, runRepeated, startProfile, stopProfile, warmUp, type Ctx, type PhaseResult, type PhaseSpec, type ProfileResult } from "./common.js";

/** One server's fan-out result. */
export interface FanoutResult {
  server: ServerId;
  subscribers: number;
  /** First connect → every subscriber joined. */
  connectMs?: number;
  /** Server CPU while nothing is published, with every subscriber connected (ms of CPU per second: timers, heartbeats). */
  idleCpuMsPerSecond?: number;
  phases: PhaseResult[];
  profile?: ProfileResult;
  error?: string;
}

/** The phases of a fan-out run on one topic reaching `recipients` subscribers. */
export function fanoutPhases(ctx: Ctx, topic: string, recipients: number, sizes: number[]): PhaseSpec[] {
  const { deliveryRate, fixedSeconds, burst64, burst4k } = ctx.options;
  const perSecond = deliveryRate / recipients;
  const fixedMessages = Math.max(2, Math.round(perSecond * fixedSeconds));
  const phases: PhaseSpec[] = [];
  for (const size of sizes) {
    const name = size >= 1024 ? `${size / 1024} KB` : `${size} B`;
    phases.push({ label: `${name} fixed`, mode: "fixed", size, messages: fixedMessages, perSecond, topicOf: () => topic, recipients });
    phases.push({ label: `${name} burst`, mode: "burst", size, messages: size >= 1024 ? burst4k : burst64, topicOf: () => topic, recipients });
  }
  return phases;
}

/** Runs the fan-out scenario against one server. Never throws: a failure lands in `error`. */
export async function runFanout(ctx: Ctx, id: ServerId): Promise<FanoutResult> {
  const n = ctx.options.fanoutSubscribers;
  const result: FanoutResult = { server: id, subscribers: n, phases: [] };
  const dialect = dialectOf(id);
  let server: RunningServer | undefined;
  let swarm: Swarm | undefined;
  let publisher: Publisher | undefined;
  let profiling = false;
  try {
    server = await launch(id, ctx.paths);
    ctx.log(`  ${id}: server pid ${server.child.pid} on port ${server.port}; connecting ${n} subscribers`);
    swarm = new Swarm({ port: server.port, dialect, batch: ctx.options.batch, topicsOf: () => ["fan"] });
    const started = performance.now();
    await swarm.grow(n, started + ctx.options.timeoutSeconds * 1000);
    result.connectMs = performance.now() - started;
    publisher = await openPublisher(server.port, dialect, ["fan"], performance.now() + ctx.options.timeoutSeconds * 1000);
    await warmUp(ctx, swarm, publisher, "fan", n);
    const running = server;
    const meter = new CpuMeter(() => running.pids());
    swarm.keepalive();
    await sleep(500);
    const idle = meter.begin();
    await sleep(2_000);
    const idleWindow = meter.end(idle);
    result.idleCpuMsPerSecond = (1000 * idleWindow.serverCpuMs) / idleWindow.wallMs;
    profiling = await startProfile(ctx, server);
    for (const spec of fanoutPhases(ctx, "fan", n, [64, 4096])) {
      result.phases.push(await runRepeated(ctx, server, swarm, publisher, spec, meter));
    }
    if (profiling) {
      profiling = false;
      result.profile = await stopProfile(ctx, server, `${id}-fanout`);
    }
  } catch (error) {
    result.error = errorText(error);
    if (server?.child.exited() !== undefined) result.error += ` [the server exited: ${server.child.exited()}]`;
    ctx.log(`  ${id}: FAILED: ${result.error}`);
    if (profiling && server !== undefined) {
      try { result.profile = await stopProfile(ctx, server, `${id}-fanout`); } catch { /* the server is gone */ }
    }
  } finally {
    swarm?.closeAll();
    publisher?.close();
    await server?.child.stop();
  }
  return result;
}
