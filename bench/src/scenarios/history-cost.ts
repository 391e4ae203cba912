/**
 * Scenario 7, history cost (issue 16: "publishing with history on costs at most 1.15× the CPU
 * per delivery of the same fan-out without it; Redis CPU per publication"). Built to be read on
 * a shared, loaded machine: one Cinder server, the same N connections each joined to three
 * topics of the same name length —
 *
 * - `echo:fan-x1`: plain (no history), the baseline;
 * - `stream:fan1`: a stream topic (history 1,000), joined without the `stream` param, so its
 *   subscribers get plain Phoenix frames and the server pays for the recording only;
 * - `stream:fan2`: the same, joined with `{stream: true}`, so every frame carries its position
 *   (what a recovering client gets);
 *
 * — and publishing alternates between them in short blocks (a seeded shuffle of the three per
 * round, R rounds after a discarded warm-up round), in bursts and at a fixed rate. Each block's
 * server CPU is the server process's scheduler run time (/proc schedstat, not wall time), over
 * the block's deliveries; the ratio is taken within each round (the blocks of a round are
 * seconds apart, so they share the machine's contention) and the median over rounds is
 * reported with its range. The same is run on the memory store (one process) and on the Redis
 * store (one process, a private redis-server this scenario starts, so its CPU is only ours:
 * /proc/<pid> of that redis-server, per publication).
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { cinderDialect, stampedPayload, type Dialect } from "../load/dialects.js";
import { sleep } from "../load/measure.js";
import { openPublisher, publishAtRate, publishBurst, type Publisher } from "../load/publisher.js";
import { Swarm } from "../load/swarm.js";
import { machineCpuMs, processCpuMs, processesCpuMs, selfCpuMs } from "../machine.js";
import { launch, type RunningServer } from "../servers.js";
import { median } from "../table.js";
import { errorText, type Ctx } from "./common.js";

/** The three variants, by topic. */
export const HISTORY_VARIANTS = [
  { id: "plain", topic: "echo:fan-x1", params: "{}", label: "no history" },
  { id: "history", topic: "stream:fan1", params: "{}", label: "history on, plain subscribers" },
  { id: "positions", topic: "stream:fan2", params: '{"stream":true}', label: "history on, subscribers with positions" },
] as const;
export type HistoryVariant = (typeof HISTORY_VARIANTS)[number]["id"];

/** One block: one variant, one mode, in one round. */
export interface HistoryBlock {
  round: number;
  variant: HistoryVariant;
  mode: "burst" | "fixed";
  messages: number;
  deliveries: number;
  wallMs: number;
  serverCpuMs: number;
  /** redis-server's process CPU over the block, less its idle rate (measured before the rounds) × the block's wall time. */
  redisCpuMs: number;
  /** Time Redis itself accounts to commands (INFO commandstats usec: EVAL/EVALSHA, PUBLISH), µs. */
  redisCommandUs: number;
  loadCpuMs: number;
  otherCpuMs: number;
}

/** Medians over rounds for one store, mode and variant. */
export interface HistorySummary {
  store: "memory" | "redis";
  mode: "burst" | "fixed";
  variant: HistoryVariant;
  /** Median server CPU per delivery, µs. */
  cpuPerDeliveryUs: number;
  /** Per-round (variant / plain) ratios of CPU per delivery: median, min, max. */
  ratio: { median: number; min: number; max: number } | undefined;
  /** Median redis-server CPU per publication, µs (Redis store only; idle rate subtracted). */
  redisPerPublicationUs: number | undefined;
  /** Median Redis command time per publication (INFO commandstats), µs. */
  redisCommandPerPublicationUs: number | undefined;
  rounds: number;
}

/** The scenario's result. */
export interface HistoryCostResult {
  subscribers: number;
  rounds: number;
  burstMessages: number;
  fixedMessages: number;
  fixedPerSecond: number;
  summaries: HistorySummary[];
  blocks: Array<HistoryBlock & { store: "memory" | "redis" }>;
  errors: string[];
}

/** Cinder's dialect with full topic names and each variant's join params. */
const dialect: Dialect = {
  ...cinderDialect,
  subscribeFrames: (topics) => topics.map((topic, i) => {
    const params = HISTORY_VARIANTS.find((v) => v.topic === topic)?.params ?? "{}";
    return `["${i + 1}","${i + 1}",${JSON.stringify(topic)},"phx_join",${params}]`;
  }),
  publishFrame: (topic, payloadJson, ref, joinIndex) => `["${joinIndex}","${ref}",${JSON.stringify(topic)},"broadcast_from",${payloadJson}]`,
};

/** A seeded shuffle (mulberry32), so a run's order can be replayed. */
function shuffled<T>(items: readonly T[], seed: number): T[] {
  let a = seed >>> 0;
  const random = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** A private redis-server (no persistence) on a free port; resolves once it answers. */
async function startRedis(): Promise<{ child: ChildProcess; url: string; pid: number }> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    const child = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], { stdio: ["ignore", "pipe", "pipe"] });
    const ready = await new Promise<boolean>((resolve) => {
      let text = "";
      const timer = setTimeout(() => resolve(false), 5_000);
      child.stdout!.on("data", (chunk: Buffer) => {
        text += chunk.toString();
        if (/Ready to accept connections/.test(text)) { clearTimeout(timer); resolve(true); }
      });
      child.once("exit", () => { clearTimeout(timer); resolve(false); });
    });
    if (ready && child.pid !== undefined) return { child, url: `redis://127.0.0.1:${port}`, pid: child.pid };
    child.kill("SIGKILL");
  }
  throw new Error("could not start a private redis-server");
}

/** Total usec Redis accounts to the commands a publication runs (EVAL, EVALSHA, PUBLISH), from INFO commandstats. */
function redisCommandUsec(port: string): number {
  const info = execFileSync("redis-cli", ["-p", port, "INFO", "commandstats"], { encoding: "utf8" });
  let usec = 0;
  for (const match of info.matchAll(/^cmdstat_(eval|evalsha|publish):calls=\d+,usec=(\d+)/gm)) usec += Number(match[2]);
  return usec;
}

/** Runs the rounds against one store. */
async function runStore(ctx: Ctx, store: "memory" | "redis", result: HistoryCostResult): Promise<void> {
  const n = result.subscribers;
  let redis: { child: ChildProcess; url: string; pid: number } | undefined;
  let server: RunningServer | undefined;
  let swarm: Swarm | undefined;
  let publisher: Publisher | undefined;
  const timeout = ctx.options.timeoutSeconds * 1000;
  try {
    if (store === "redis") redis = await startRedis();
    server = await launch("cinder", ctx.paths, redis === undefined ? {} : { env: { CINDER_REDIS_URL: redis.url, CINDER_REDIS_NAMESPACE: `cinder-bench-hist-${ctx.stamp}` } });
    const topics = HISTORY_VARIANTS.map((v) => v.topic);
    swarm = new Swarm({ port: server.port, dialect, batch: ctx.options.batch, topicsOf: () => topics });
    await swarm.grow(n, performance.now() + timeout);
    publisher = await openPublisher(server.port, dialect, topics, performance.now() + timeout);
    const pids = server.pids();
    const s = swarm;
    const p = publisher;
    ctx.log(`  ${store} store: ${n} subscribers on ${topics.join(", ")}${redis !== undefined ? `; private redis-server pid ${redis.pid} at ${redis.url}` : ""}`);

    // redis-server's own background work (its cron), subtracted from each block.
    let redisIdlePerMs = 0;
    if (redis !== undefined) {
      const idle0 = processCpuMs(redis.pid);
      const w0 = performance.now();
      await sleep(2_000);
      redisIdlePerMs = (processCpuMs(redis.pid) - idle0) / (performance.now() - w0);
      ctx.log(`    redis-server idle: ${(1000 * redisIdlePerMs).toFixed(2)} ms CPU per second`);
    }
    const redisPort = redis === undefined ? "" : new URL(redis.url).port;
    const block = async (round: number, variant: (typeof HISTORY_VARIANTS)[number], mode: "burst" | "fixed"): Promise<HistoryBlock> => {
      const messages = mode === "burst" ? result.burstMessages : result.fixedMessages;
      await sleep(150);
      const base = s.deliveries;
      const cpu0 = processesCpuMs(pids);
      const commands0 = redis === undefined ? 0 : redisCommandUsec(redisPort);
      const redis0 = redis === undefined ? 0 : processCpuMs(redis.pid);
      const load0 = selfCpuMs();
      const machine0 = machineCpuMs().busy;
      const t0 = performance.now();
      const send = (seq: number): void => p.publish(variant.topic, stampedPayload(64, seq));
      if (mode === "burst") publishBurst(messages, send);
      else await publishAtRate(messages, result.fixedPerSecond, send);
      await s.waitDeliveries(base + messages * n, performance.now() + timeout);
      await sleep(20); // trailing work after the last delivery (write callbacks, GC started by the block)
      const wallMs = performance.now() - t0;
      const serverCpuMs = processesCpuMs(pids) - cpu0;
      const redisCpuMs = redis === undefined ? 0 : Math.max(0, processCpuMs(redis.pid) - redis0 - redisIdlePerMs * wallMs);
      const redisCommandUs = redis === undefined ? 0 : redisCommandUsec(redisPort) - commands0;
      const loadCpuMs = selfCpuMs() - load0;
      const otherCpuMs = Math.max(0, machineCpuMs().busy - machine0 - serverCpuMs - redisCpuMs - loadCpuMs);
      return { round, variant: variant.id, mode, messages, deliveries: s.deliveries - base, wallMs, serverCpuMs, redisCpuMs, redisCommandUs, loadCpuMs, otherCpuMs };
    };

    const blocks: HistoryBlock[] = [];
    for (let round = 0; round <= result.rounds; round++) {
      // Round 0 warms up (JIT, buffers) and is discarded.
      for (const mode of ["burst", "fixed"] as const) {
        for (const variant of shuffled(HISTORY_VARIANTS, 1_000 * round + (mode === "burst" ? 1 : 2))) {
          const b = await block(round, variant, mode);
          if (round > 0) blocks.push(b);
        }
      }
      if (round > 0) {
        const line = (["burst", "fixed"] as const).map((mode) => HISTORY_VARIANTS.map((v) => {
          const b = blocks.find((x) => x.round === round && x.mode === mode && x.variant === v.id)!;
          return `${v.id} ${((1000 * b.serverCpuMs) / b.deliveries).toFixed(2)}`;
        }).join(" ")).join(" | ");
        ctx.log(`    round ${round}: µs/delivery burst ${line}`);
      }
    }
    for (const b of blocks) result.blocks.push({ store, ...b });
    for (const mode of ["burst", "fixed"] as const) {
      for (const variant of HISTORY_VARIANTS) {
        const mine = blocks.filter((b) => b.mode === mode && b.variant === variant.id);
        const perDelivery = (b: HistoryBlock): number => (1000 * b.serverCpuMs) / b.deliveries;
        const ratios: number[] = [];
        for (const b of mine) {
          const plain = blocks.find((x) => x.round === b.round && x.mode === mode && x.variant === "plain");
          if (plain !== undefined && variant.id !== "plain") ratios.push(perDelivery(b) / perDelivery(plain));
        }
        result.summaries.push({
          store, mode, variant: variant.id,
          cpuPerDeliveryUs: median(mine.map(perDelivery)),
          ratio: ratios.length === 0 ? undefined : { median: median(ratios), min: Math.min(...ratios), max: Math.max(...ratios) },
          redisPerPublicationUs: redis === undefined ? undefined : median(mine.map((b) => (1000 * b.redisCpuMs) / b.messages)),
          redisCommandPerPublicationUs: redis === undefined ? undefined : median(mine.map((b) => b.redisCommandUs / b.messages)),
          rounds: mine.length,
        });
      }
    }
  } catch (error) {
    result.errors.push(`${store} store: ${errorText(error)}`);
    ctx.log(`  ${store} store: FAILED: ${errorText(error)}`);
  } finally {
    swarm?.closeAll();
    publisher?.close();
    await server?.child.stop();
    redis?.child.kill("SIGTERM");
  }
}

/** Runs the history-cost scenario on the memory store and on a private Redis. Never throws. */
export async function runHistoryCost(ctx: Ctx): Promise<HistoryCostResult> {
  const n = ctx.options.historySubscribers;
  const fixedPerSecond = ctx.options.deliveryRate / n;
  const result: HistoryCostResult = {
    subscribers: n, rounds: ctx.options.historyRounds, burstMessages: ctx.options.historyBurst,
    fixedMessages: Math.max(2, Math.round(fixedPerSecond * ctx.options.historyFixedSeconds)), fixedPerSecond,
    summaries: [], blocks: [], errors: [],
  };
  for (const store of ctx.options.historyStores) await runStore(ctx, store, result);
  return result;
}
