/**
 * Scenario 2, idle connections: connections each joined to one channel (all on one topic),
 * grown in steps (1,000 / 10,000 / as many as the file limit allows); at each step, after a
 * full GC in the server (through the probe), its RSS and heap per connection above the
 * baseline of the idle server, and the connect+join rate of the step.
 */
import { rmSync } from "node:fs";
import { join } from "node:path";
import { heapGrowth } from "../heap-diff.js";
import { dialectOf, type ServerId } from "../load/dialects.js";
import { sleep } from "../load/measure.js";
import { Swarm } from "../load/swarm.js";
import { launch, memoryAfterGc, type RunningServer } from "../servers.js";
import { errorText, type Ctx } from "./common.js";

/** Memory after GC. */
export interface Memory {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
}

/** One step. */
export interface IdleStep {
  connections: number;
  /** Connections opened in this step, and how long they took (first connect → last join). */
  opened: number;
  connectMs: number;
  connectsPerSecond: number;
  memory: Memory;
  rssPerConnection: number;
  heapPerConnection: number;
}

/** One server's idle-connection result. */
export interface IdleResult {
  server: ServerId;
  baseline?: Memory;
  steps: IdleStep[];
  /** With `--heap`: what grew in the heap per connection over the first step, by type:constructor. */
  heapGrowth?: Array<{ name: string; bytesPerConnection: number; countPerConnection: number }>;
  error?: string;
}

/** The step sizes, "max" resolved against the file limit (both processes hold one fd per connection). */
export function idleSteps(steps: Array<number | "max">, fdLimit: number): number[] {
  const max = Math.max(1, fdLimit - 300);
  return [...new Set(steps.map((step) => (step === "max" ? max : Math.min(step, max))))].sort((a, b) => a - b);
}

/** Runs the idle-connection scenario against one server. Never throws. */
export async function runIdle(ctx: Ctx, id: ServerId, steps: number[]): Promise<IdleResult> {
  const result: IdleResult = { server: id, steps: [] };
  let server: RunningServer | undefined;
  let swarm: Swarm | undefined;
  try {
    server = await launch(id, ctx.paths);
    await sleep(1_000);
    const baseline = result.baseline = await memoryAfterGc(server);
    const snapshots = ctx.options.heapSnapshots ? [join(ctx.profileDir, `${id}-idle-0.heapsnapshot`), join(ctx.profileDir, `${id}-idle-1.heapsnapshot`)] : undefined;
    if (snapshots !== undefined) await server.child.request("heap-snapshot", { path: snapshots[0] }, 120_000);
    swarm = new Swarm({ port: server.port, dialect: dialectOf(id), batch: ctx.options.batch, topicsOf: () => ["idle"] });
    for (const target of steps) {
      const before = swarm.subscribers.length;
      ctx.log(`  ${id}: growing to ${target} joined connections`);
      const started = performance.now();
      await swarm.grow(target, started + ctx.options.timeoutSeconds * 1000 * Math.max(1, target / 10_000));
      const connectMs = performance.now() - started;
      await sleep(1_000);
      const memory = await memoryAfterGc(server);
      const step: IdleStep = {
        connections: target, opened: target - before, connectMs, connectsPerSecond: (1000 * (target - before)) / Math.max(1, connectMs),
        memory,
        rssPerConnection: (memory.rss - baseline.rss) / target,
        heapPerConnection: (memory.heapUsed - baseline.heapUsed) / target,
      };
      result.steps.push(step);
      if (snapshots !== undefined && result.heapGrowth === undefined) {
        await server.child.request("heap-snapshot", { path: snapshots[1] }, 120_000);
        result.heapGrowth = heapGrowth(snapshots[0]!, snapshots[1]!, 30)
          .map((g) => ({ name: g.name, bytesPerConnection: g.bytes / target, countPerConnection: g.count / target }));
        if (process.env.BENCH_KEEP_SNAPSHOTS !== "1") for (const file of snapshots) rmSync(file, { force: true });
      }
      ctx.log(`    ${target} connections: ${(step.rssPerConnection / 1024).toFixed(1)} KiB RSS and ${(step.heapPerConnection / 1024).toFixed(1)} KiB heap per connection, ` +
        `${step.connectsPerSecond.toFixed(0)} connects+joins/s`);
    }
  } catch (error) {
    result.error = errorText(error);
    if (server?.child.exited() !== undefined) result.error += ` [the server exited: ${server.child.exited()}]`;
    ctx.log(`  ${id}: FAILED: ${result.error}`);
  } finally {
    swarm?.closeAll();
    await server?.child.stop();
  }
  return result;
}
