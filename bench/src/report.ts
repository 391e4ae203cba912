/**
 * The bench's tables: one per scenario with the columns Cinder | Socket.IO | ws |
 * Cinder/Socket.IO | Cinder/ws (the cluster table compares 1 process with N workers), the
 * targets of the issue against what was measured, and contention notes; rendered as plain
 * text for the console and as Markdown for BENCHMARKS.md.
 */
import type { LatencySummary } from "./load/measure.js";
import type { ServerId } from "./load/dialects.js";
import type { MachineInfo } from "./machine.js";
import type { BenchOptions } from "./options.js";
import type { ClusterResult } from "./scenarios/cluster.js";
import type { RecoveryResult } from "./scenarios/recovery.js";
import { HISTORY_VARIANTS, type HistoryCostResult } from "./scenarios/history-cost.js";
import type { PhaseResult } from "./scenarios/common.js";
import type { FanoutResult } from "./scenarios/fanout.js";
import type { IdleResult } from "./scenarios/idle.js";
import type { PresenceResult } from "./scenarios/presence.js";
import { CINDER_DIFF_WINDOW_MS } from "./scenarios/presence.js";
import type { TopicsResult } from "./scenarios/topics.js";
import { LABELS } from "./servers.js";
import { duration, fixed, int, mib, table } from "./table.js";

/** A rendered-agnostic table. */
export interface Table {
  title: string;
  header: string[];
  rows: string[][];
  notes: string[];
}

/** Everything one run measured. */
export interface BenchResults {
  fanout?: FanoutResult[];
  idle?: IdleResult[];
  topics?: TopicsResult[];
  presence?: PresenceResult[];
  cluster?: ClusterResult;
  recovery?: RecoveryResult[];
  history?: HistoryCostResult;
}

type Values = Partial<Record<ServerId, number | undefined>>;

interface Metric {
  label: string;
  values: Values;
  format: (value: number) => string;
  /** Show Cinder/X ratios (default true). */
  ratio?: boolean;
  /** Text for a server without a value (default "-"). */
  missing?: Partial<Record<ServerId, string>>;
  /** Text cells instead of formatted values (no ratios). */
  texts?: Partial<Record<ServerId, string>>;
}

const us = (value: number): string => `${fixed(value, 2)} µs`;
const ms = (value: number): string => `${fixed(value, value < 10 ? 2 : 1)} ms`;
const kib = (value: number): string => `${fixed(value / 1024, 1)} KiB`;
const perSecond = (value: number): string => `${int(value)}/s`;
const pct = (value: number): string => `${fixed(value, 0)}%`;

function ratioCell(cinder: number | undefined, other: number | undefined): string {
  if (cinder === undefined || other === undefined || !Number.isFinite(cinder) || !Number.isFinite(other) || other === 0) return "-";
  return `${fixed(cinder / other, 2)}x`;
}

/** A comparison table over the servers that ran. */
function compareTable(title: string, servers: readonly ServerId[], metrics: Metric[], notes: string[] = []): Table {
  const others = servers.filter((id) => id !== "cinder");
  const withCinder = servers.includes("cinder");
  const header = ["metric", ...servers.map((id) => LABELS[id]), ...(withCinder ? others.map((id) => `Cinder/${LABELS[id]}`) : [])];
  const rows = metrics.map((metric) => [
    metric.label,
    ...servers.map((id) => {
      if (metric.texts !== undefined) return metric.texts[id] ?? "-";
      const value = metric.values[id];
      return value === undefined || !Number.isFinite(value) ? (metric.missing?.[id] ?? "-") : metric.format(value);
    }),
    ...(withCinder ? others.map((id) => (metric.ratio === false || metric.texts !== undefined ? "" : ratioCell(metric.values.cinder, metric.values[id]))) : []),
  ]);
  return { title, header, rows, notes };
}

function byServer<T extends { server: ServerId }>(results: readonly T[]): Map<ServerId, T> {
  return new Map(results.map((result) => [result.server, result]));
}

function phaseMetrics(label: string, phases: Map<ServerId, PhaseResult | undefined>, unit: "delivery" | "message"): Metric[] {
  const values = (pick: (phase: PhaseResult) => number): Values =>
    Object.fromEntries([...phases].map(([id, phase]) => [id, phase === undefined ? undefined : pick(phase)]));
  const latency = (pick: (l: LatencySummary) => number): Values => values((phase) => pick(phase.latency));
  const spread: Partial<Record<ServerId, string>> = Object.fromEntries([...phases].map(([id, phase]) => {
    const runs = phase?.runs;
    if (runs === undefined || runs.length < 2) return [id, phase === undefined ? "-" : "1 run"];
    const cpu = runs.map((r) => r.cpuPerDeliveryUs);
    return [id, `${fixed(Math.min(...cpu), 2)}-${fixed(Math.max(...cpu), 2)} µs`];
  }));
  return [
    { label: `${label}: server CPU per ${unit} (median of runs)`, values: values((p) => p.cpuPerDeliveryUs), format: us },
    { label: `${label}:   min-max over ${Math.max(...[...phases.values()].map((p) => p?.runs?.length ?? 1))} runs`, values: {}, format: us, texts: spread },
    { label: `${label}: server write syscalls per ${unit}`, values: values((p) => p.writesPerDelivery), format: (v) => fixed(v, 2) },
    { label: `${label}: ${unit === "delivery" ? "deliveries" : "messages"}/s`, values: values((p) => p.deliveriesPerSecond), format: perSecond },
    { label: `${label}: latency p50`, values: latency((l) => l.p50), format: ms },
    { label: `${label}: latency p99`, values: latency((l) => l.p99), format: ms },
    { label: `${label}: latency max`, values: latency((l) => l.max), format: ms },
    { label: `${label}: other programs' CPU (% of a core)`, values: values((p) => (100 * p.window.otherCpuMs) / Math.max(1, p.window.wallMs)), format: pct, ratio: false },
  ];
}

function phaseLabels<T extends { phases: PhaseResult[] }>(results: readonly T[]): string[] {
  const labels: string[] = [];
  for (const result of results) for (const phase of result.phases) if (!labels.includes(phase.label)) labels.push(phase.label);
  return labels;
}

function failureNotes(results: ReadonlyArray<{ server: ServerId; error?: string }>): string[] {
  return results.filter((r) => r.error !== undefined).map((r) => `${LABELS[r.server]} failed: ${r.error}`);
}

function contentionNotes(results: ReadonlyArray<{ server: ServerId; phases: PhaseResult[] }>): string[] {
  const notes: string[] = [];
  for (const result of results) {
    for (const phase of result.phases) {
      const share = phase.window.otherCpuMs / Math.max(1, phase.window.wallMs);
      if (share > 0.2) {
        notes.push(`${LABELS[result.server]} ${phase.label}: other programs used ${fixed(100 * share, 0)}% of a core meanwhile (timings skewed; CPU per delivery less so)`);
      }
    }
  }
  return notes;
}

function fanoutTable(results: FanoutResult[], servers: readonly ServerId[]): Table {
  const map = byServer(results);
  const n = results[0]?.subscribers ?? 0;
  const metrics: Metric[] = [
    { label: "subscribers connected+joined in", values: Object.fromEntries([...map].map(([id, r]) => [id, r.connectMs])), format: duration },
    { label: "idle server CPU with them connected (ms/s)", values: Object.fromEntries([...map].map(([id, r]) => [id, r.idleCpuMsPerSecond])), format: (v) => fixed(v, 2), ratio: false },
  ];
  for (const label of phaseLabels(results)) {
    metrics.push(...phaseMetrics(label, new Map([...map].map(([id, r]) => [id, r.phases.find((p) => p.label === label)])), "delivery"));
  }
  const first = results.find((r) => r.phases.length > 0);
  const fixedPhase = first?.phases.find((p) => p.mode === "fixed");
  const bursts = first?.phases.filter((p) => p.mode === "burst").map((p) => `${p.label}: ${int(p.messages)} messages`).join(", ");
  return compareTable(
    `Scenario 1: fan-out, ${int(n)} subscribers on one topic, one publisher (fixed: ${fixedPhase ? `${fixed(fixedPhase.messagesPerSecond ?? 0, 1)} messages/s = ${int((fixedPhase.messagesPerSecond ?? 0) * n)} deliveries/s, ${int(fixedPhase.messages)} messages` : "-"}; ${bursts ?? ""})`,
    servers, metrics, [...failureNotes(results), ...contentionNotes(results)],
  );
}

function idleTable(results: IdleResult[], servers: readonly ServerId[]): Table {
  const map = byServer(results);
  const steps: number[] = [];
  for (const result of results) for (const step of result.steps) if (!steps.includes(step.connections)) steps.push(step.connections);
  steps.sort((a, b) => a - b);
  const metrics: Metric[] = [
    { label: "baseline RSS (idle server, after GC)", values: Object.fromEntries([...map].map(([id, r]) => [id, r.baseline?.rss])), format: mib },
    { label: "baseline heap used (after GC)", values: Object.fromEntries([...map].map(([id, r]) => [id, r.baseline?.heapUsed])), format: mib },
  ];
  for (const n of steps) {
    const at = (pick: (s: IdleResult["steps"][number]) => number): Values =>
      Object.fromEntries([...map].map(([id, r]) => { const step = r.steps.find((s) => s.connections === n); return [id, step === undefined ? undefined : pick(step)]; }));
    metrics.push(
      { label: `N = ${int(n)}: RSS per connection`, values: at((s) => s.rssPerConnection), format: kib },
      { label: `N = ${int(n)}: heap per connection`, values: at((s) => s.heapPerConnection), format: kib },
      { label: `N = ${int(n)}: server RSS`, values: at((s) => s.memory.rss), format: mib },
      { label: `N = ${int(n)}: connects+joins/s (this step)`, values: at((s) => s.connectsPerSecond), format: perSecond },
    );
  }
  return compareTable("Scenario 2: idle connections, each joined to one channel (per connection = (value - baseline) / N, after a full GC)",
    servers, metrics, failureNotes(results));
}

function topicsTable(results: TopicsResult[], servers: readonly ServerId[]): Table {
  const map = byServer(results);
  const n = results[0]?.subscribers ?? 0;
  const metrics: Metric[] = [
    { label: "subscribers connected+joined (2 topics each) in", values: Object.fromEntries([...map].map(([id, r]) => [id, r.connectMs])), format: duration },
    { label: "publisher connections", values: Object.fromEntries([...map].map(([id, r]) => [id, r.publisherConnections])), format: int, ratio: false },
    { label: "server RSS at end", values: Object.fromEntries([...map].map(([id, r]) => [id, r.serverRssBytes])), format: mib },
  ];
  for (const label of phaseLabels(results)) {
    const phases = new Map([...map].map(([id, r]) => [id, r.phases.find((p) => p.label === label)]));
    metrics.push(...phaseMetrics(label, phases, label.startsWith("shared") ? "delivery" : "message"));
  }
  return compareTable(`Scenario 3: many topics, ${int(n)} subscribers each on its own topic plus one shared topic (${int(n + 1)} topics); 64 B messages`,
    servers, metrics, [...failureNotes(results), ...contentionNotes(results)]);
}

function presenceTables(results: PresenceResult[], servers: readonly ServerId[]): Table[] {
  const counts = [...new Set(results.map((r) => r.members))].sort((a, b) => a - b);
  return counts.map((m) => {
    const map = byServer(results.filter((r) => r.members === m));
    const val = (pick: (r: PresenceResult) => number | undefined): Values => Object.fromEntries([...map].map(([id, r]) => [id, pick(r)]));
    const failedJoin: Partial<Record<ServerId, string>> = Object.fromEntries([...map].filter(([, r]) => r.join === undefined && r.error !== undefined)
      .map(([id, r]) => [id, r.failedPhase === "join" && r.timeoutSeconds !== undefined && /timed out/.test(r.error ?? "")
        ? `> ${int(r.timeoutSeconds)} s (${int(Number(r.progress?.joinedWithState ?? 0))} joined, ${int(Number(r.progress?.fullViews ?? 0))} complete)`
        : `failed (${int(Number(r.progress?.fullViews ?? 0))}/${int(m)} complete)`]));
    const metrics: Metric[] = [
      { label: "join: first connect -> every member has the full list", values: val((r) => r.join?.wallMs), format: duration, missing: failedJoin },
      { label: "join: server CPU", values: val((r) => r.join?.serverCpuMs), format: (v) => `${fixed(v / 1000, 2)} s` },
      { label: "join: presence frames received (all members)", values: val((r) => r.join?.diffFrames ?? (r.progress?.diffFrames as number | undefined)), format: int },
      { label: "join: presence frames per member", values: val((r) => r.join?.diffFramesPerMember), format: (v) => fixed(v, 1) },
      { label: "join: distinct presence broadcasts", values: val((r) => r.join?.distinctDiffs), format: int },
      { label: "join: naive M(M-1)/2 / actual frames", values: val((r) => r.join?.naiveRatio), format: (v) => `${fixed(v, 1)}x`, ratio: false },
      { label: "join: bytes received (all members)", values: val((r) => r.join?.bytesReceived ?? (r.progress?.bytesReceived as number | undefined)), format: mib },
      { label: "join: server RSS at end", values: val((r) => r.join?.serverRssBytes), format: mib },
      { label: "join: other programs' CPU (% of a core)", values: val((r) => (r.join === undefined ? undefined : (100 * r.join.otherCpuMs) / r.join.wallMs)), format: pct, ratio: false },
      { label: "churn: reconnects (close + rejoin)", values: val((r) => r.churn?.reconnects), format: int, ratio: false },
      { label: "churn: last reconnect -> all lists complete", values: val((r) => r.churn?.convergeMs), format: duration },
      { label: "churn: server CPU", values: val((r) => r.churn?.serverCpuMs), format: (v) => `${fixed(v / 1000, 2)} s` },
      { label: "churn: presence frames received", values: val((r) => r.churn?.diffFrames), format: int },
      { label: "churn: presence_state / full lists sent", values: val((r) => r.churn?.stateFrames), format: int },
      { label: "churn: bytes received", values: val((r) => r.churn?.bytesReceived), format: mib },
      { label: "churn: other programs' CPU (% of a core)", values: val((r) => (r.churn === undefined ? undefined : (100 * r.churn.otherCpuMs) / r.churn.wallMs)), format: pct, ratio: false },
    ];
    const churn = results.find((r) => r.churn !== undefined)?.churn;
    const notes = [
      `Cinder: CRDT presence, diffs coalesced within ${CINDER_DIFF_WINDOW_MS} ms (the createPresence default the conformance server uses). ` +
        "Socket.IO and ws: naive presence (no CRDT, single node): the full list to the joiner, one join/leave frame to every member per change.",
      ...(churn !== undefined ? [`churn: ${fixed(churn.rate, 0)} members/s closed and reconnected for ${fixed(churn.seconds, 0)} s`] : []),
      ...results.filter((r) => r.members === m && r.error !== undefined)
        .map((r) => `${LABELS[r.server]} failed in the ${r.failedPhase} phase: ${r.error}; progress ${JSON.stringify(r.progress ?? {})}`),
    ];
    return compareTable(`Scenario 4: presence, ${int(m)} members joining one topic, then churn`, servers, metrics, notes);
  });
}

function clusterTable(result: ClusterResult): Table {
  const variants = result.variants;
  const header = ["metric", ...variants.map((v) => v.label), ...(variants.length > 1 ? [`${variants[1]!.label} / ${variants[0]!.label}`] : [])];
  const rows: string[][] = [];
  const add = (label: string, pick: (v: (typeof variants)[number]) => number | undefined, format: (v: number) => string, ratio = true): void => {
    const values = variants.map(pick);
    rows.push([label, ...values.map((v) => (v === undefined || !Number.isFinite(v) ? "-" : format(v))),
      ...(variants.length > 1 ? [ratio ? ratioCell(values[1], values[0]) : ""] : [])]);
  };
  add("subscribers connected+joined in", (v) => v.connectMs, duration);
  rows.push(["subscribers per worker", ...variants.map((v) => v.distribution?.join(" / ") ?? String(v.subscribers)), ...(variants.length > 1 ? [""] : [])]);
  const labels = phaseLabels(variants);
  for (const label of labels) {
    const phase = (v: (typeof variants)[number]): PhaseResult | undefined => v.phases.find((p) => p.label === label);
    add(`${label}: server CPU per delivery (all processes)`, (v) => phase(v)?.cpuPerDeliveryUs, us);
    add(`${label}: redis-server CPU per delivery`, (v) => (v.workers > 1 ? phase(v)?.extraCpuPerDeliveryUs : undefined), us, false);
    add(`${label}: deliveries/s`, (v) => phase(v)?.deliveriesPerSecond, perSecond);
    add(`${label}: latency p50`, (v) => phase(v)?.latency.p50, ms);
    add(`${label}: latency p99`, (v) => phase(v)?.latency.p99, ms);
    add(`${label}: latency max`, (v) => phase(v)?.latency.max, ms);
    const group = (index: number) => (v: (typeof variants)[number]): string => {
      const g = phase(v)?.groups?.[index];
      return g === undefined ? "-" : `${ms(g.p50)} / ${ms(g.p99)}`;
    };
    rows.push([`${label}: latency p50 / p99, subscribers on the publisher's worker`, ...variants.map(group(0)), ...(variants.length > 1 ? [""] : [])]);
    rows.push([`${label}: latency p50 / p99, subscribers on the other worker (via Redis)`, ...variants.map(group(1)), ...(variants.length > 1 ? [""] : [])]);
    add(`${label}: other programs' CPU (% of a core)`, (v) => { const p = phase(v); return p === undefined ? undefined : (100 * p.window.otherCpuMs) / p.window.wallMs; }, pct, false);
  }
  const notes = [
    `Cinder conformance server as 1 process vs --workers ${variants[1]?.workers ?? 2} (node:cluster, one port, round-robin accept; workers joined by Redis at ${result.redisUrl}, namespace ${result.namespace}). ` +
      "Server CPU sums the primary and its workers; redis-server is measured apart.",
    ...variants.filter((v) => v.error !== undefined).map((v) => `${v.label} failed: ${v.error}`),
    ...(result.skipped !== undefined ? [`not run: ${result.skipped}`] : []),
  ];
  return { title: `Scenario 5: cluster fan-out, ${int(variants[0]?.subscribers ?? 0)} subscribers on one topic, 64 B (Cinder only)`, header, rows, notes };
}

/** The issue's targets against this run. */
function targetsTable(results: BenchResults): Table {
  const rows: string[][] = [];
  const verdict = (ratio: number | undefined, target: number): string =>
    ratio === undefined || !Number.isFinite(ratio) ? "not measured" : ratio <= target ? "met" : `missed by ${fixed(100 * (ratio / target - 1), 0)}%`;
  const fan = results.fanout !== undefined ? byServer(results.fanout) : undefined;
  for (const label of ["64 B fixed", "64 B burst", "4 KB fixed", "4 KB burst"]) {
    const c = fan?.get("cinder")?.phases.find((p) => p.label === label)?.cpuPerDeliveryUs;
    const w = fan?.get("ws")?.phases.find((p) => p.label === label)?.cpuPerDeliveryUs;
    const s = fan?.get("socketio")?.phases.find((p) => p.label === label)?.cpuPerDeliveryUs;
    if (c === undefined && w === undefined) continue;
    const ratio = c !== undefined && w !== undefined ? c / w : undefined;
    rows.push([`fan-out ${label}: server CPU per delivery <= bare ws`, c === undefined ? "-" : us(c),
      `ws ${w === undefined ? "-" : us(w)}, Socket.IO ${s === undefined ? "-" : us(s)}`, ratio === undefined ? "-" : `${fixed(ratio, 2)}x`, verdict(ratio, 1)]);
  }
  const idle = results.idle !== undefined ? byServer(results.idle) : undefined;
  const cinderSteps = idle?.get("cinder")?.steps ?? [];
  for (const step of cinderSteps) {
    const ws = idle?.get("ws")?.steps.find((s) => s.connections === step.connections);
    const sio = idle?.get("socketio")?.steps.find((s) => s.connections === step.connections);
    const ratio = ws === undefined ? undefined : step.rssPerConnection / ws.rssPerConnection;
    rows.push([`memory per joined connection (RSS), N = ${int(step.connections)}: <= 1.3x bare ws`, kib(step.rssPerConnection),
      `ws ${ws === undefined ? "-" : kib(ws.rssPerConnection)}, Socket.IO ${sio === undefined ? "-" : kib(sio.rssPerConnection)}`,
      ratio === undefined ? "-" : `${fixed(ratio, 2)}x`, verdict(ratio, 1.3)]);
    const heapRatio = ws === undefined ? undefined : step.heapPerConnection / ws.heapPerConnection;
    rows.push([`  (heap per joined connection, N = ${int(step.connections)}, for reference)`, kib(step.heapPerConnection),
      `ws ${ws === undefined ? "-" : kib(ws.heapPerConnection)}, Socket.IO ${sio === undefined ? "-" : kib(sio.heapPerConnection)}`,
      heapRatio === undefined ? "-" : `${fixed(heapRatio, 2)}x`, ""]);
  }
  for (const r of (results.presence ?? []).filter((p) => p.server === "cinder")) {
    const naive = (r.members * (r.members - 1)) / 2;
    const frames = r.join?.diffFrames;
    rows.push([`presence ${int(r.members)} joins: diff frames far below naive M(M-1)/2 = ${int(naive)}; window <= 100 ms`,
      frames === undefined ? "failed" : `${int(frames)} frames`,
      `window ${CINDER_DIFF_WINDOW_MS} ms; complete in ${r.join === undefined ? "-" : duration(r.join.wallMs)}`,
      frames === undefined ? "-" : `naive/actual ${fixed(naive / Math.max(1, frames), 1)}x`,
      frames === undefined ? "not measured" : naive / Math.max(1, frames) >= 10 ? "met" : "missed"]);
  }
  return {
    title: "Targets (issue 8) against this run",
    header: ["target", "Cinder", "compared with", "ratio", "verdict"],
    rows,
    notes: ["Reference from the issue (a 2-core machine): bare ws 8-12 µs of server CPU per delivered 64 B message and ~11 KB RSS per connection; Socket.IO 11-13 µs and ~27 KB."],
  };
}

function recoveryTable(results: RecoveryResult[]): Table {
  const header = ["metric", ...results.map((r) => r.label), ...(results.length > 1 ? ["Cinder / Socket.IO"] : [])];
  const rows: string[][] = [];
  const add = (label: string, pick: (r: RecoveryResult) => number | undefined, format: (v: number) => string, ratio = true): void => {
    const values = results.map(pick);
    rows.push([label, ...values.map((v) => (v === undefined || !Number.isFinite(v) ? "-" : format(v))),
      ...(results.length > 1 ? [ratio ? ratioCell(values[0], values[1]) : ""] : [])]);
  };
  add("clients cut off (of all subscribers)", (r) => r.affected, int, false);
  add("… whose rejoin said recovered", (r) => r.recoveredClients, int, false);
  add("… whose rejoin said not recovered", (r) => r.notRecoveredClients, int, false);
  add("fault → last rejoin answered", (r) => r.allRejoinedMs, duration);
  add("fault → every client has every message", (r) => r.allCompleteMs, duration);
  add("messages lost (sum over clients, goal 0)", (r) => r.lost, int, false);
  add("messages duplicated (sum over clients, goal 0)", (r) => r.duplicated, int, false);
  add("recovered messages (missed while away, got after the rejoin)", (r) => r.recoveredMessages, int, false);
  add("server CPU, clean phase (no fault)", (r) => r.clean?.serverCpuMs, (v) => `${int(v)} ms`);
  add("server CPU, fault phase", (r) => r.fault?.serverCpuMs, (v) => `${int(v)} ms`);
  add("redis-server CPU, clean / fault phase", (r) => (r.server === "cinder" ? r.fault?.redisCpuMs : undefined), (v) => `${int(v)} ms`, false);
  rows[rows.length - 1]![1] = results[0]?.clean !== undefined && results[0].server === "cinder" ? `${int(results[0].clean.redisCpuMs)} / ${int(results[0].fault?.redisCpuMs ?? NaN)} ms` : "-";
  add("server CPU per recovered message (fault phase)", (r) => r.cpuPerRecoveredUs, us);
  add("extra server CPU per recovered message (fault − clean)", (r) => r.extraCpuPerRecoveredUs, us);
  const notes = [
    "Cinder: conformance server --workers 2 on the Redis history store, `stream:rec` (history 1,000); the worker without the publisher is SIGKILLed at message 20 of 100 (the primary forks a new one); its clients reconnect to either worker and rejoin with `stream: <last position>`. " +
      "Socket.IO: one process, connectionStateRecovery (in-memory adapter); half the clients' connections are dropped at message 20 (it cannot survive a restart) and reconnect with `40{pid, offset}`; recovered = the CONNECT reply's pid is the old one (socket.recovered).",
    "Each phase publishes the same messages (64 B) at a steady rate; first a clean phase, then the fault phase. A dropped client reconnects after a random 0-250 ms. Server CPU sums the primary and all workers, the killed one up to its last reading (every 50 ms) and its replacement from its start. " +
      "Recovered messages: those published between a client's cut and its rejoin answer that it got. Both CPU-per-recovered-message figures include the phase's live fan-out and the reconnect handshakes; the second subtracts the clean phase.",
    ...results.filter((r) => r.error !== undefined).map((r) => `${r.label} failed: ${r.error}`),
  ];
  return { title: `Scenario 6: recovery, ${int(results[0]?.subscribers ?? 0)} subscribers on one stream topic, ${results[0]?.messages ?? 0} messages at ${results[0]?.messagesPerSecond ?? 0}/s`, header, rows, notes };
}

function historyTable(result: HistoryCostResult): Table {
  const header = ["store, mode", ...HISTORY_VARIANTS.map((v) => `${v.label}: µs/delivery`), "history / none (median, range)", "positions / none (median, range)", "redis-server CPU µs per publication, idle subtracted (none / history / positions)", "Redis command µs per publication (commandstats)"];
  const rows: string[][] = [];
  for (const store of ["memory", "redis"] as const) {
    for (const mode of ["burst", "fixed"] as const) {
      const of = (variant: string) => result.summaries.find((s) => s.store === store && s.mode === mode && s.variant === variant);
      if (of("plain") === undefined) continue;
      const ratio = (variant: string): string => {
        const r = of(variant)?.ratio;
        return r === undefined ? "-" : `${fixed(r.median, 3)}x (${fixed(r.min, 2)}-${fixed(r.max, 2)})`;
      };
      rows.push([`${store}, ${mode === "burst" ? `burst of ${result.burstMessages}` : `${fixed(result.fixedPerSecond, 1)} msg/s`}`,
        ...HISTORY_VARIANTS.map((v) => us(of(v.id)?.cpuPerDeliveryUs ?? NaN)),
        ratio("history"), ratio("positions"),
        store === "redis" ? HISTORY_VARIANTS.map((v) => fixed(of(v.id)?.redisPerPublicationUs ?? NaN, 1)).join(" / ") : "-",
        store === "redis" ? HISTORY_VARIANTS.map((v) => fixed(of(v.id)?.redisCommandPerPublicationUs ?? NaN, 1)).join(" / ") : "-"]);
    }
  }
  return {
    title: `Scenario 7: history cost, ${int(result.subscribers)} connections each on echo:fan-x1 (no history), stream:fan1 (plain subscribers) and stream:fan2 (subscribers with positions), 64 B, ${result.rounds} interleaved rounds`,
    header, rows,
    notes: [
      "Each round publishes one block per topic (a seeded shuffle of the order), a burst then a fixed rate; a block's server CPU is the server process's scheduler run time over its deliveries. Ratios are taken within a round (blocks seconds apart share the machine's contention), then the median and range over rounds. The first round is a discarded warm-up.",
      "Redis store: one server process with CINDER_REDIS_URL on a private redis-server the scenario starts (so its CPU is only this run's); plain topics go through the adapter's PUBLISH, stream topics through the append script (number, store, trim, PUBLISH).",
      ...result.errors,
    ],
  };
}

/** Every table of a run, in order. */
export function allTables(results: BenchResults, options: BenchOptions): Table[] {
  const tables: Table[] = [];
  const servers = options.servers;
  if (results.fanout !== undefined) tables.push(fanoutTable(results.fanout, servers));
  if (results.idle !== undefined) tables.push(idleTable(results.idle, servers));
  if (results.topics !== undefined) tables.push(topicsTable(results.topics, servers));
  if (results.presence !== undefined) tables.push(...presenceTables(results.presence, servers));
  if (results.cluster !== undefined) tables.push(clusterTable(results.cluster));
  if (results.recovery !== undefined) tables.push(recoveryTable(results.recovery));
  if (results.history !== undefined) tables.push(historyTable(results.history));
  tables.push(targetsTable(results));
  return tables;
}

/** Plain text. */
export function renderText(t: Table): string {
  const body = table(t.title, t.header, t.rows);
  return t.notes.length === 0 ? body : `${body}\n${t.notes.map((note) => `note: ${note}`).join("\n")}`;
}

/** Markdown. */
export function renderMarkdown(t: Table): string {
  const escape = (cell: string): string => cell.replace(/\|/g, "\\|");
  const lines = [
    `#### ${t.title}`,
    "",
    `| ${t.header.map(escape).join(" | ")} |`,
    `| ${t.header.map((_, i) => (i === 0 ? "---" : "---:")).join(" | ")} |`,
    ...t.rows.map((row) => `| ${row.map(escape).join(" | ")} |`),
  ];
  if (t.notes.length > 0) lines.push("", ...t.notes.map((note) => `- ${note}`));
  return lines.join("\n");
}

/** The machine as a table. */
export function machineTable(machine: MachineInfo): Table {
  return {
    title: "Machine",
    header: ["item", "value"],
    rows: [
      ["os", `${machine.os} ${machine.kernel} (${machine.arch})`],
      ["cpus", `${machine.cpuCount} x ${machine.cpuModel}`],
      ["memory", mib(machine.totalMemoryBytes)],
      ["node", machine.node],
      ["ulimit -n (soft / hard)", `${machine.fdLimit.soft} / ${machine.fdLimit.hard}`],
      ["local port range", machine.localPortRange],
      ["clock ticks/s", String(machine.clockTicksPerSecond)],
      ["load average at start (1/5/15 min)", machine.loadAverage.join(" / ")],
      ["git commit", `${machine.git.commit}${machine.git.dirty ? " (working tree modified)" : ""}`],
    ],
    notes: [],
  };
}
