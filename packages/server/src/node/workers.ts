/**
 * One-machine mode: N worker processes serve one port, joined by a cluster adapter, so a
 * multi-core machine uses all its cores. The primary forks the workers (node:cluster), restarts
 * the ones that exit, and restarts them all one at a time on SIGHUP (a rolling restart: the
 * replacement is ready, and has had `settleMs` to catch up, before the old worker drains). The primary gives every worker one shared
 * secret (`CINDER_CLUSTER_SECRET`, kept if set), which long-poll session tokens need, since
 * consecutive polls may reach different workers.
 *
 * With `listen` (what `serve` passes), the primary accepts on the port itself and hands each
 * connection to the worker holding the fewest open connections (balancer.ts, pick-worker.ts);
 * workers report what they hold over IPC (receive.ts). A worker that is starting, draining or
 * full (at its `maxConnections`, and never past its fd limit minus the reserve) gets none; at
 * most 4 handoffs wait in node's queue for a worker, the other connections wait in the primary
 * for the least-loaded one to have room (at most 1 000 per worker, 5 s each). When no worker can
 * take a connection, the primary itself answers HTTP 503 with `Retry-After: 1` and a plain-text
 * body, and logs one line per 10 s counting the refusals. Connections arriving before the first
 * worker is ready get that 503 too. A draining worker tells the primary first (and the primary
 * marks it before a rolling restart's SIGTERM), so reconnecting clients land on the others.
 *
 * Without `listen`, workers listen themselves and node:cluster's round-robin in the primary
 * shares the port (blind to load and to full workers).
 */
import cluster, { type Worker } from "node:cluster";
import { randomBytes } from "node:crypto";
import { Balancer } from "./balancer.js";
import { isHandoff, PRIMARY_PORT_ENV, primaryPort } from "./handoff.js";

/**
 * Where a process stands in one-machine mode. A worker's `primaryPort` is the port its primary
 * accepts on when it hands connections over (the worker then must not listen; see `serve`).
 */
export type WorkerRole = { role: "primary" } | { role: "single" } | { role: "worker"; id: number; primaryPort: number | undefined };

/** Options of `forkWorkers`. */
export interface ForkOptions {
  /** The primary listens here and hands connections to the least-loaded worker; default: workers listen themselves. */
  listen?: { port: number; host?: string | undefined };
  /**
   * In a rolling restart, how long a replacement has been ready before the worker it replaces
   * drains, so its cluster state (presence) has caught up before that worker's clients move to
   * it: with load balancing they all come to it, the least loaded. Default 2 000 ms.
   */
  settleMs?: number;
}

/** Default `settleMs`. */
const SETTLE_MS = 2_000;

/** How long the primary waits for its workers to drain when it is stopped. */
const STOP_TIMEOUT_MS = 30_000;

/** Resolves when `worker` listens or says it is ready (true), or exits first (false). */
function ready(worker: Worker): Promise<boolean> {
  return new Promise((resolve) => {
    worker.once("listening", () => resolve(true));
    const onMessage = (message: unknown): void => {
      if (!isHandoff(message) || message.cinder !== "ready") return;
      worker.off("message", onMessage);
      resolve(true);
    };
    worker.on("message", onMessage);
    worker.once("exit", () => resolve(false));
  });
}

/** Resolves when `worker` has exited. */
function exited(worker: Worker): Promise<void> {
  if (worker.isDead()) return Promise.resolve();
  return new Promise((resolve) => worker.once("exit", () => resolve()));
}

/**
 * With `workers > 1`, forks that many workers in the primary (restarting any that exit
 * unexpectedly, rolling-restarting all on SIGHUP) and returns `{role: "primary"}`, which should
 * not start a server; with `options.listen` the primary first binds that port and then hands
 * the workers their connections (it exits with code 1, logged, if it cannot bind). In a worker
 * returns `{role: "worker", id, primaryPort}`. With `workers <= 1` returns `{role: "single"}`.
 */
export function forkWorkers(workers: number, log: (message: string) => void = console.error, options: ForkOptions = {}): WorkerRole {
  if (cluster.isWorker) {
    // node:cluster's messages to the primary go over the IPC channel; once the primary is gone
    // (killed), a send fails with EPIPE as an 'error' event, which unheard would crash this
    // worker with a stack trace instead of letting it exit on the channel's disconnect.
    // (node:cluster re-emits the process's 'error' on `cluster.worker`.)
    cluster.worker?.on("error", (error: Error) => log(`worker ${cluster.worker?.id ?? "?"}: channel to the primary failed: ${error.message}`));
    return { role: "worker", id: cluster.worker?.id ?? 0, primaryPort: primaryPort() };
  }
  if (!Number.isInteger(workers) || workers <= 1) return { role: "single" };
  let stopping = false;
  let balancer: Balancer | undefined;
  /** Workers being replaced on purpose: their exit starts no other. */
  const replaced = new Set<number>();
  process.env.CINDER_CLUSTER_SECRET ??= randomBytes(32).toString("base64url");
  const fork = (): Worker => cluster.fork(balancer === undefined ? {} : { [PRIMARY_PORT_ENV]: String(balancer.port) });
  cluster.on("fork", (worker) => {
    // Handing a connection to a worker that just died fails with EPIPE, which node:cluster re-emits
    // as the worker's 'error' event; unheard, it would crash the primary and with it every worker.
    worker.on("error", (error: Error) => log(`worker ${worker.id}: ${error.message}`));
    balancer?.add(worker);
  });
  cluster.on("exit", (worker, code, signal) => {
    if (stopping || replaced.delete(worker.id)) return;
    log(`worker ${worker.id} exited (${signal ?? code}); starting another`);
    fork();
  });
  const start = (): void => {
    for (let i = 0; i < workers; i++) fork();
  };
  if (options.listen === undefined) start();
  else {
    Balancer.listen({ ...options.listen, log }).then((bound) => {
      balancer = bound;
      if (stopping) bound.close();
      else start();
    }, (error: Error) => {
      log(`primary: cannot listen on ${options.listen?.host ?? "*"}:${options.listen?.port ?? "?"}: ${error.message}`);
      process.exit(1);
    });
  }

  let restarting = false;
  const rollingRestart = async (): Promise<void> => {
    if (restarting || stopping) return;
    restarting = true;
    const old = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined);
    log(`rolling restart of ${old.length} workers`);
    for (const worker of old) {
      if (stopping) break;
      if (worker.isDead()) continue;
      const next = fork();
      if (!(await ready(next))) { log(`worker ${next.id} exited before it was ready; rolling restart stopped`); break; }
      await new Promise((resolve) => setTimeout(resolve, options.settleMs ?? SETTLE_MS));
      if (stopping) break;
      replaced.add(worker.id);
      balancer?.retire(worker.id);
      worker.process.kill("SIGTERM");
      await exited(worker);
    }
    restarting = false;
    log("rolling restart done");
  };

  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    balancer?.close();
    const all = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined);
    for (const worker of all) worker.process.kill("SIGTERM");
    setTimeout(() => process.exit(0), STOP_TIMEOUT_MS).unref();
    void Promise.all(all.map(exited)).then(() => process.exit(0));
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
  process.on("SIGHUP", () => void rollingRestart());
  return { role: "primary" };
}
