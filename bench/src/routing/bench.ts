/**
 * The cluster routing benchmark (a benchmark, not a test: nothing asserts on timings).
 *
 *   npm run bench:routing -- [--nodes 4] [--topics 1000] [--broadcasts 2500] [--rate 1000] [--churn 2000]
 *                            [--engines single,cluster] [--routings all,topic]
 *
 * N node processes (PubSub + RedisAdapter) on a Redis of the bench's own (a single
 * redis-server, and a 3-master Redis Cluster with sharded pub/sub), T topics each subscribed
 * on one node only (topic i on node i mod N). Every node publishes `--broadcasts` broadcasts
 * on random topics at `--rate` per second; then one node churns `--churn` fresh topics
 * (subscribe, wait for the route, unsubscribe). For each engine, `"all"` routing (every node
 * receives every broadcast, the adapter before topic routing) and `"topic"` routing in one
 * run: Redis messages delivered per broadcast, server CPU per delivery, Redis CPU per
 * broadcast, and the churn's cost. Results: bench/results/routing-<timestamp>.json.
 */
import { fork, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import type { RedisRouting } from "@cinder/redis";
import { processesCpuMs } from "../machine.js";
import { fixed, int, table } from "../table.js";
import type { NodeCommand, NodeReply } from "./node.js";
import { redisServerBinary, startRedis, type RedisProcs } from "./redis-procs.js";

const here = dirname(fileURLToPath(import.meta.url)); // bench/dist/src/routing
const benchRoot = resolve(here, "..", "..", "..");

type Engine = "single" | "cluster";

interface RoutingResult {
  engine: Engine;
  routing: RedisRouting;
  broadcasts: number;
  deliveries: number;
  redisMessages: number;
  seconds: number;
  serverCpuMs: number;
  redisCpuMs: number;
  churn: { cycles: number; subscribeCommands: number; channelsSubscribed: number; ackP50: number; ackP99: number; nodeCpuMs: number; redisCpuMs: number };
}

interface Child {
  process: ChildProcess;
  next(kind: NodeReply["kind"]): Promise<NodeReply>;
}

function startNode(config: object): Promise<Child> {
  const child = fork(join(here, "node.js"), [JSON.stringify(config)], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const waiting: Array<{ kind: NodeReply["kind"]; resolve: (reply: NodeReply) => void }> = [];
  child.on("message", (reply: NodeReply) => {
    const at = waiting.findIndex((w) => w.kind === reply.kind);
    if (at !== -1) waiting.splice(at, 1)[0]!.resolve(reply);
  });
  const next = (kind: NodeReply["kind"]): Promise<NodeReply> => new Promise((done) => waiting.push({ kind, resolve: done }));
  return next("ready").then(() => ({ process: child, next }));
}

async function ask<K extends NodeReply["kind"]>(child: Child, command: NodeCommand, kind: K): Promise<Extract<NodeReply, { kind: K }>> {
  const reply = child.next(kind);
  child.process.send(command);
  return await reply as Extract<NodeReply, { kind: K }>;
}

const statsOf = (children: Child[]): Promise<Array<Extract<NodeReply, { kind: "stats" }>>> =>
  Promise.all(children.map((child) => ask(child, { kind: "stats" }, "stats")));

const sum = (values: number[]): number => values.reduce((a, b) => a + b, 0);
const percentile = (values: number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;
};

async function measure(engine: Engine, routing: RedisRouting, redis: RedisProcs, options: Options): Promise<RoutingResult> {
  const namespace = `bench-${randomBytes(3).toString("hex")}`;
  const children = await Promise.all(Array.from({ length: options.nodes }, (_, k) => startNode({
    name: `node${k}`, namespace, routing, lingerMs: 1000,
    ...(engine === "cluster" ? { cluster: redis.urls } : { url: redis.urls[0] }),
    owned: Array.from({ length: options.topics }, (_, i) => i).filter((i) => i % options.nodes === k),
  })));
  try {
    await new Promise((resolve) => setTimeout(resolve, 500));
    const before = await statsOf(children);
    const redisBefore = processesCpuMs(redis.pids);
    const started = performance.now();
    await Promise.all(children.map((child) => ask(child, { kind: "publish", count: options.broadcasts, perSecond: options.rate, topics: options.topics }, "published")));
    const broadcasts = options.broadcasts * options.nodes;
    // Not polled meanwhile (the polling would be counted): one look a while after the last publish, then more only if needed.
    await new Promise((resolve) => setTimeout(resolve, 500));
    let after = await statsOf(children);
    for (const deadline = Date.now() + 30_000; Date.now() < deadline;) {
      if (sum(after.map((s, i) => s.deliveries - before[i]!.deliveries)) >= broadcasts) break;
      await new Promise((resolve) => setTimeout(resolve, 500));
      after = await statsOf(children);
    }
    const seconds = (performance.now() - started) / 1000;
    const redisCpuMs = processesCpuMs(redis.pids) - redisBefore;

    const churnBefore = (await statsOf(children))[0]!;
    const redisChurnBefore = processesCpuMs(redis.pids);
    const churned = await ask(children[0]!, { kind: "churn", cycles: options.churn, concurrency: 50 }, "churned");
    await new Promise((resolve) => setTimeout(resolve, 1500)); // the linger, so the unsubscriptions are paid for too
    const churnAfter = (await statsOf(children))[0]!;
    return {
      engine, routing, broadcasts, seconds, redisCpuMs,
      deliveries: sum(after.map((s, i) => s.deliveries - before[i]!.deliveries)),
      redisMessages: sum(after.map((s, i) => s.received - before[i]!.received)),
      serverCpuMs: sum(after.map((s, i) => s.cpuMicros - before[i]!.cpuMicros)) / 1000,
      churn: {
        cycles: churned.cycles,
        subscribeCommands: churnAfter.subscribeCommands - churnBefore.subscribeCommands,
        channelsSubscribed: churnAfter.channelsSubscribed - churnBefore.channelsSubscribed,
        ackP50: percentile(churned.ackMs, 0.5), ackP99: percentile(churned.ackMs, 0.99),
        nodeCpuMs: (churnAfter.cpuMicros - churnBefore.cpuMicros) / 1000,
        redisCpuMs: processesCpuMs(redis.pids) - redisChurnBefore,
      },
    };
  } finally {
    await Promise.all(children.map((child) => new Promise((done) => { child.process.once("exit", done); child.process.disconnect(); })));
  }
}

interface Options { nodes: number; topics: number; broadcasts: number; rate: number; churn: number; engines: Engine[]; routings: RedisRouting[] }

function options(): Options {
  const { values } = parseArgs({
    options: {
      nodes: { type: "string", default: "4" }, topics: { type: "string", default: "1000" },
      broadcasts: { type: "string", default: "2500" }, rate: { type: "string", default: "1000" }, churn: { type: "string", default: "2000" },
      engines: { type: "string", default: "single,cluster" }, routings: { type: "string", default: "all,topic" },
    },
  });
  const positive = (name: string, raw: string): number => {
    const value = Number(raw);
    if (!Number.isSafeInteger(value) || value < 1) throw new Error(`--${name} must be a positive integer, not ${raw}`);
    return value;
  };
  const engines = values.engines.split(",").map((e) => e.trim());
  const routings = values.routings.split(",").map((r) => r.trim());
  for (const e of engines) if (e !== "single" && e !== "cluster") throw new Error(`--engines: single or cluster, not ${e}`);
  for (const r of routings) if (r !== "all" && r !== "topic") throw new Error(`--routings: all or topic, not ${r}`);
  return {
    nodes: positive("nodes", values.nodes), topics: positive("topics", values.topics), broadcasts: positive("broadcasts", values.broadcasts),
    rate: positive("rate", values.rate), churn: positive("churn", values.churn), engines: engines as Engine[], routings: routings as RedisRouting[],
  };
}

async function main(): Promise<void> {
  const opts = options();
  const binary = redisServerBinary();
  if (binary === undefined) throw new Error("redis-server not found");
  const startedAt = new Date();
  const loadBefore = loadavg();
  const results: RoutingResult[] = [];
  for (const engine of opts.engines) {
    const redis = await startRedis(binary, engine === "cluster" ? 3 : 1, engine === "cluster");
    try {
      for (const routing of opts.routings) {
        console.log(`${engine} / ${routing} …`);
        results.push(await measure(engine, routing, redis, opts));
      }
    } finally {
      await redis.stop();
    }
  }
  const loadAfter = loadavg();
  const label = (r: RoutingResult): string => `${r.engine === "cluster" ? "Redis Cluster (3 masters, sharded)" : "single Redis"} · ${r.routing}`;
  const rows = results.map((r) => [
    label(r), int(r.broadcasts), fixed(r.redisMessages / r.broadcasts, 2), int(r.deliveries),
    fixed(r.serverCpuMs * 1000 / Math.max(1, r.deliveries), 1), fixed(r.redisCpuMs * 1000 / r.broadcasts, 1), fixed(r.seconds, 1),
  ]);
  console.log("");
  console.log(table(`Cluster routing: ${opts.nodes} nodes, ${opts.topics} topics each subscribed on one node, ${int(opts.broadcasts)} broadcasts per node at ${opts.rate}/s`,
    ["engine · routing", "broadcasts", "Redis msgs delivered / broadcast", "deliveries", "server CPU µs / delivery", "Redis CPU µs / broadcast", "wall s"], rows));
  console.log("");
  console.log(table(`Subscription churn: one node subscribes ${int(opts.churn)} fresh topics (50 at a time), waits for each route, unsubscribes`,
    ["engine · routing", "SUBSCRIBE commands", "channels subscribed", "join wait p50 ms", "p99 ms", "node CPU µs / topic", "Redis CPU µs / topic"],
    results.map((r) => [label(r), int(r.churn.subscribeCommands), int(r.churn.channelsSubscribed), fixed(r.churn.ackP50, 2), fixed(r.churn.ackP99, 2),
      fixed(r.churn.nodeCpuMs * 1000 / r.churn.cycles, 1), fixed(r.churn.redisCpuMs * 1000 / r.churn.cycles, 1)])));
  console.log(`\nload average before ${loadBefore.map((l) => l.toFixed(2)).join(" ")}, after ${loadAfter.map((l) => l.toFixed(2)).join(" ")}`);
  const dir = join(benchRoot, "results");
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `routing-${startedAt.toISOString().replace(/[:.]/g, "-")}.json`);
  writeFileSync(file, JSON.stringify({ benchmark: "routing", startedAt: startedAt.toISOString(), argv: process.argv.slice(2), options: opts, loadBefore, loadAfter, results }, null, 2));
  console.log(`results: ${file}`);
}

await main();
