/**
 * Scenario 5, cluster: the fan-out scenario (64 B, fixed rate and burst) against Cinder as one
 * process, and as `--workers N` (node:cluster: one port, connections spread round-robin over
 * the workers, workers joined by Redis with this run's own `CINDER_REDIS_NAMESPACE`). Server CPU
 * is summed over the primary and its workers; Redis's CPU is measured apart. Which worker holds
 * each connection is read from /proc (socket inodes against /proc/net/tcp), so latency is also
 * reported for subscribers on the publisher's worker (local delivery) and on the others
 * (cross-worker, through Redis).
 */
import { connect } from "node:net";
import { cinderDialect } from "../load/dialects.js";
import { CpuMeter } from "../load/measure.js";
import { RawPublisher } from "../load/publisher.js";
import { Swarm } from "../load/swarm.js";
import { clientPortOwners, pidsByName } from "../machine.js";
import { launch, type RunningServer } from "../servers.js";
import { errorText, runRepeated, warmUp, type Ctx, type PhaseResult } from "./common.js";
import { fanoutPhases } from "./fanout.js";

/** One configuration's result. */
export interface ClusterVariant {
  label: string;
  workers: number;
  subscribers: number;
  connectMs?: number;
  /** Subscribers per worker process (pid order), when known. */
  distribution?: number[];
  /** Subscribers on the publisher's worker / on the other workers. */
  sameWorker?: number;
  otherWorkers?: number;
  phases: PhaseResult[];
  error?: string;
}

/** The cluster scenario's result. */
export interface ClusterResult {
  redisUrl: string;
  namespace: string;
  variants: ClusterVariant[];
  /** Why the workers variant did not run (Redis unreachable). */
  skipped?: string;
}

async function runVariant(ctx: Ctx, workers: number, namespace: string): Promise<ClusterVariant> {
  const n = ctx.options.clusterSubscribers;
  const label = workers <= 1 ? "1 process" : `${workers} workers (Redis)`;
  const variant: ClusterVariant = { label, workers, subscribers: n, phases: [] };
  let server: RunningServer | undefined;
  let swarm: Swarm | undefined;
  let publisher: RawPublisher | undefined;
  try {
    server = await launch("cinder", ctx.paths, workers <= 1 ? {} : {
      workers, env: { CINDER_REDIS_URL: ctx.options.redisUrl, CINDER_REDIS_NAMESPACE: namespace },
    });
    const running = server;
    ctx.log(`  ${label}: pids ${running.pids().join(", ")} on port ${running.port}; connecting ${n} subscribers`);
    swarm = new Swarm({ port: server.port, dialect: cinderDialect, batch: ctx.options.batch, topicsOf: () => ["fan"] });
    const started = performance.now();
    await swarm.grow(n, started + ctx.options.timeoutSeconds * 1000);
    variant.connectMs = performance.now() - started;
    publisher = await RawPublisher.open(server.port, cinderDialect, ["fan"], performance.now() + ctx.options.timeoutSeconds * 1000);

    // Which worker holds each connection.
    let groups: { of: Uint8Array; count: number } | undefined;
    if (workers > 1) {
      const workerPids = running.pids().slice(1);
      const owners = clientPortOwners(workerPids, running.port);
      const publisherPid = owners.get(publisher.localPort());
      variant.distribution = workerPids.map((pid) => swarm!.subscribers.filter((s) => owners.get(s.localPort) === pid).length);
      const of = new Uint8Array(n);
      swarm.subscribers.forEach((s) => { of[s.index] = owners.get(s.localPort) === publisherPid ? 0 : 1; });
      variant.sameWorker = of.filter((g) => g === 0).length;
      variant.otherWorkers = n - variant.sameWorker;
      groups = { of, count: 2 };
      ctx.log(`    subscribers per worker: ${variant.distribution.join(" / ")}; ${variant.sameWorker} on the publisher's worker`);
    }
    await warmUp(ctx, swarm, publisher, "fan", n);
    const redisPids = workers > 1 ? pidsByName("redis-server") : [];
    const meter = new CpuMeter(() => running.pids(), () => redisPids);
    for (const spec of fanoutPhases(ctx, "fan", n, [64])) {
      variant.phases.push(await runRepeated(ctx, server, swarm, publisher, { ...spec, ...(groups !== undefined ? { groups } : {}) }, meter));
    }
  } catch (error) {
    variant.error = errorText(error);
    if (server?.child.exited() !== undefined) variant.error += ` [the server exited: ${server.child.exited()}]`;
    ctx.log(`  ${label}: FAILED: ${variant.error}`);
  } finally {
    swarm?.closeAll();
    publisher?.close();
    await server?.child.stop();
  }
  return variant;
}

/** Resolves with an error message when Redis at `url` does not answer PING within `timeoutMs`, else undefined. */
export function redisProblem(url: string, timeoutMs = 2_000): Promise<string | undefined> {
  let host = "127.0.0.1";
  let port = 6379;
  try {
    const parsed = new URL(url);
    host = parsed.hostname || host;
    port = Number(parsed.port || 6379);
  } catch {
    return Promise.resolve(`not a Redis URL: ${url}`);
  }
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    let answer = "";
    const done = (problem: string | undefined): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(problem);
    };
    const timer = setTimeout(() => done(`Redis at ${url} did not answer PING within ${timeoutMs} ms`), timeoutMs);
    socket.on("connect", () => socket.write("PING\r\n"));
    socket.on("data", (chunk) => {
      answer += chunk.toString("latin1");
      // +PONG, or -NOAUTH… (a password-protected Redis still is a Redis: the adapter's URL carries the password)
      if (answer.includes("\r\n")) done(answer.startsWith("+PONG") || answer.startsWith("-NOAUTH") ? undefined : `Redis at ${url} answered ${JSON.stringify(answer.trim())}`);
    });
    socket.on("error", (error) => done(`Redis at ${url} is not reachable: ${error.message}`));
  });
}

/** Runs the cluster scenario: 1 process, then `clusterWorkers` workers. Never throws. */
export async function runCluster(ctx: Ctx): Promise<ClusterResult> {
  const namespace = `cinder-bench-${ctx.stamp}`;
  const result: ClusterResult = { redisUrl: ctx.options.redisUrl, namespace, variants: [] };
  const problem = await redisProblem(ctx.options.redisUrl);
  if (problem !== undefined) {
    result.skipped = `${problem}; the ${ctx.options.clusterWorkers}-worker run needs it (start redis-server, or pass --redis URL)`;
    ctx.log(`  skipped: ${result.skipped}`);
    return result;
  }
  result.variants.push(await runVariant(ctx, 1, namespace));
  result.variants.push(await runVariant(ctx, ctx.options.clusterWorkers, namespace));
  return result;
}
