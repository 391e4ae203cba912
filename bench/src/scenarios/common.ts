/**
 * What the scenarios share: the run context, one measured publish phase (fixed rate or burst)
 * with its CPU window and latencies, and the profiling hooks.
 */
import { join } from "node:path";
import { topFunctions, topInclusive, type ProfileEntry } from "../cpu-profile.js";
import { stampedPayload } from "../load/dialects.js";
import { CpuMeter, sleep, type CpuWindow, type LatencySummary } from "../load/measure.js";
import { publishAtRate, publishBurst, type Publisher } from "../load/publisher.js";
import type { Swarm } from "../load/swarm.js";
import { processRssBytes } from "../machine.js";
import type { BenchOptions } from "../options.js";
import type { Paths, RunningServer } from "../servers.js";

/** The run context. */
export interface Ctx {
  paths: Paths;
  options: BenchOptions;
  log: (line: string) => void;
  /** Where CPU profiles go. */
  profileDir: string;
  /** Unique per run (Redis namespaces, file names). */
  stamp: string;
}

/** One measured publish phase. */
export interface PhaseResult {
  label: string;
  mode: "fixed" | "burst";
  /** Payload bytes (the JSON of the published object). */
  size: number;
  messages: number;
  /** Messages per second asked for (fixed mode). */
  messagesPerSecond?: number;
  /** Deliveries expected (messages × recipients). */
  expected: number;
  deliveries: number;
  /** First publish → last delivery. */
  spanMs: number;
  window: CpuWindow;
  /** Server CPU (user + sys, all its processes) per delivery, in µs. */
  cpuPerDeliveryUs: number;
  /** Separately measured processes (Redis) per delivery, in µs. */
  extraCpuPerDeliveryUs: number;
  deliveriesPerSecond: number;
  /** Server write syscalls per delivery (below 1: frames for one connection coalesced into one write). */
  writesPerDelivery: number;
  latency: LatencySummary;
  /** Latency by subscriber group (cluster: same worker as the publisher, other worker). */
  groups?: LatencySummary[];
  serverRssBytes: number;
  /** With repeats: CPU per delivery (µs) and latency p50 (ms) of every run, in run order. */
  runs?: Array<{ cpuPerDeliveryUs: number; writesPerDelivery: number; p50: number; p99: number; deliveriesPerSecond: number }>;
}

/** What a phase publishes. */
export interface PhaseSpec {
  label: string;
  mode: "fixed" | "burst";
  size: number;
  messages: number;
  /** Fixed mode: messages per second. */
  perSecond?: number;
  topicOf(seq: number): string;
  /** Subscribers each message reaches. */
  recipients: number;
  /** Subscriber index → latency group, and the number of groups. */
  groups?: { of: Uint8Array; count: number };
}

/** Publishes one phase, waits (bounded) for every delivery, and measures it. */
export async function runPhase(ctx: Ctx, server: RunningServer, swarm: Swarm, publisher: Publisher, spec: PhaseSpec, meter: CpuMeter): Promise<PhaseResult> {
  swarm.keepalive();
  await sleep(250); // heartbeat replies and leftovers of the previous phase settle outside the window
  const expected = spec.messages * spec.recipients;
  const base = swarm.record(expected, spec.groups);
  const plannedMs = spec.mode === "fixed" && spec.perSecond !== undefined ? (1000 * spec.messages) / spec.perSecond : 0;
  const deadline = performance.now() + plannedMs + ctx.options.timeoutSeconds * 1000;
  const start = meter.begin();
  const send = (seq: number): void => publisher.publish(spec.topicOf(seq), stampedPayload(spec.size, seq));
  if (spec.mode === "fixed") await publishAtRate(spec.messages, spec.perSecond ?? 1, send);
  else publishBurst(spec.messages, send);
  await swarm.waitDeliveries(base + expected, deadline);
  const end = swarm.lastDeliveryAt;
  const window = meter.end(start, end);
  const deliveries = swarm.deliveries - base;
  const latency = swarm.latencies!.summary();
  const groups = swarm.groupLatencies?.map((recorder) => recorder.summary());
  swarm.latencies = null;
  swarm.groupLatencies = null;
  const spanMs = end - start.at;
  const result: PhaseResult = {
    label: spec.label, mode: spec.mode, size: spec.size, messages: spec.messages, expected, deliveries, spanMs, window,
    cpuPerDeliveryUs: (1000 * window.serverCpuMs) / Math.max(1, deliveries),
    extraCpuPerDeliveryUs: (1000 * window.extraCpuMs) / Math.max(1, deliveries),
    deliveriesPerSecond: (1000 * deliveries) / Math.max(1, spanMs),
    writesPerDelivery: window.serverWriteSyscalls / Math.max(1, deliveries),
    latency,
    serverRssBytes: processRssBytes(server.child.pid),
    ...(spec.perSecond !== undefined ? { messagesPerSecond: spec.perSecond } : {}),
    ...(groups !== undefined ? { groups } : {}),
  };
  ctx.log(`    ${spec.label}: ${deliveries} deliveries in ${(spanMs / 1000).toFixed(2)} s, ` +
    `${result.cpuPerDeliveryUs.toFixed(2)} µs server CPU/delivery, ${result.writesPerDelivery.toFixed(2)} writes/delivery, p50 ${latency.p50.toFixed(2)} ms, p99 ${latency.p99.toFixed(2)} ms, ` +
    `other programs ${((100 * window.otherCpuMs) / Math.max(1, window.wallMs)).toFixed(0)}% of a core`);
  return result;
}

/**
 * Runs a phase `repeat` times and returns the run with the median server CPU per delivery,
 * with every run's figures in `runs` (their spread shows the noise).
 */
export async function runRepeated(ctx: Ctx, server: RunningServer, swarm: Swarm, publisher: Publisher, spec: PhaseSpec, meter: CpuMeter): Promise<PhaseResult> {
  const results: PhaseResult[] = [];
  for (let i = 0; i < Math.max(1, ctx.options.repeat); i++) results.push(await runPhase(ctx, server, swarm, publisher, spec, meter));
  const sorted = [...results].sort((a, b) => a.cpuPerDeliveryUs - b.cpuPerDeliveryUs);
  const chosen = sorted[Math.floor((sorted.length - 1) / 2)]!;
  if (results.length === 1) return chosen;
  return {
    ...chosen,
    runs: results.map((r) => ({ cpuPerDeliveryUs: r.cpuPerDeliveryUs, writesPerDelivery: r.writesPerDelivery, p50: r.latency.p50, p99: r.latency.p99, deliveriesPerSecond: r.deliveriesPerSecond })),
  };
}

/** Warm-up deliveries (JIT, buffers), not measured. */
export async function warmUp(ctx: Ctx, swarm: Swarm, publisher: Publisher, topic: string, recipients: number, messages = 20): Promise<void> {
  const base = swarm.deliveries;
  for (const size of [64, 4096]) publishBurst(messages, (seq) => publisher.publish(topic, stampedPayload(size, seq)));
  await swarm.waitDeliveries(base + 2 * messages * recipients, performance.now() + ctx.options.timeoutSeconds * 1000);
  await sleep(200);
}

/** A server CPU profile's file and top functions. */
export interface ProfileResult {
  file: string;
  /** By self time. */
  top: ProfileEntry[];
  /** By total (inclusive) time. */
  inclusive: ProfileEntry[];
}

/** Starts the server's CPU profiler (through the probe) when `--profile` is on. */
export async function startProfile(ctx: Ctx, server: RunningServer): Promise<boolean> {
  if (!ctx.options.cpuProfile) return false;
  await server.child.request("profile-start", { intervalUs: 1000 });
  return true;
}

/** Stops it, writes `<name>.cpuprofile` and returns the top functions by self time. */
export async function stopProfile(ctx: Ctx, server: RunningServer, name: string): Promise<ProfileResult> {
  const file = join(ctx.profileDir, `${name}.cpuprofile`);
  await server.child.request("profile-stop", { path: file }, 60_000);
  return { file, top: topFunctions(file, 25), inclusive: topInclusive(file, 40) };
}

/** A message for an error. */
export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
