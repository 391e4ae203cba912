/**
 * One-machine mode: N worker processes share one port (`node:cluster`), joined by a cluster
 * adapter, so a multi-core machine uses all its cores. Who accepts (`accept`): by default
 * (`"primary"`, node:cluster's SCHED_RR) the primary accepts each connection and hands it to the
 * next worker in turn over IPC, which costs the primary CPU per connection and caps the setup
 * rate; with `"shared"` (SCHED_NONE) every worker accepts from the one listening socket, so a
 * connection goes to whichever worker is free to take it first (a busy worker is not waiting in
 * accept, so load spreads by how busy each is) and the primary never touches it. The
 * primary only forks workers, restarts the ones that exit, and restarts them all one at a time
 * on SIGHUP (a rolling restart: the replacement is listening before the old worker drains).
 * A draining worker closes its listener first, which takes it out of the accepting
 * workers, so reconnecting clients land on the others. The primary gives every worker one shared secret
 * (`CINDER_CLUSTER_SECRET`, kept if set), which long-poll session tokens need, since
 * consecutive polls may reach different workers.
 */
import cluster, { type Worker } from "node:cluster";
import { randomBytes } from "node:crypto";
import type { AcceptMode } from "./args.js";

/** Where a process stands in one-machine mode. */
export type WorkerRole = { role: "primary" } | { role: "single" } | { role: "worker"; id: number };

/** How long the primary waits for its workers to drain when it is stopped. */
const STOP_TIMEOUT_MS = 30_000;

/** Resolves when `worker` listens (true) or exits first (false). */
function listening(worker: Worker): Promise<boolean> {
  return new Promise((resolve) => {
    worker.once("listening", () => resolve(true));
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
 * not start a server; in a worker returns `{role: "worker", id}`. With `workers <= 1` returns
 * `{role: "single"}`. `accept` says who accepts connections (see the module's comment).
 */
export function forkWorkers(workers: number, log: (message: string) => void = console.error, accept: AcceptMode = "primary"): WorkerRole {
  if (cluster.isWorker) {
    // node:cluster's messages to the primary go over the IPC channel; once the primary is gone
    // (killed), a send fails with EPIPE as an 'error' event, which unheard would crash this
    // worker with a stack trace instead of letting it exit on the channel's disconnect.
    // (node:cluster re-emits the process's 'error' on `cluster.worker`.)
    cluster.worker?.on("error", (error: Error) => log(`worker ${cluster.worker?.id ?? "?"}: channel to the primary failed: ${error.message}`));
    return { role: "worker", id: cluster.worker?.id ?? 0 };
  }
  if (!Number.isInteger(workers) || workers <= 1) return { role: "single" };
  // Read by node:cluster when it forks the first worker (it overrides NODE_CLUSTER_SCHED_POLICY).
  cluster.schedulingPolicy = accept === "shared" ? cluster.SCHED_NONE : cluster.SCHED_RR;
  let stopping = false;
  /** Workers being replaced on purpose: their exit starts no other. */
  const replaced = new Set<number>();
  process.env.CINDER_CLUSTER_SECRET ??= randomBytes(32).toString("base64url");
  // Handing a connection to a worker that just died fails with EPIPE, which node:cluster re-emits
  // as the worker's 'error' event; unheard, it would crash the primary and with it every worker.
  cluster.on("fork", (worker) => worker.on("error", (error: Error) => log(`worker ${worker.id}: ${error.message}`)));
  for (let i = 0; i < workers; i++) cluster.fork();
  cluster.on("exit", (worker, code, signal) => {
    if (stopping || replaced.delete(worker.id)) return;
    log(`worker ${worker.id} exited (${signal ?? code}); starting another`);
    cluster.fork();
  });

  let restarting = false;
  const rollingRestart = async (): Promise<void> => {
    if (restarting || stopping) return;
    restarting = true;
    const old = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined);
    log(`rolling restart of ${old.length} workers`);
    for (const worker of old) {
      if (stopping) break;
      if (worker.isDead()) continue;
      const next = cluster.fork();
      if (!(await listening(next))) { log(`worker ${next.id} exited before listening; rolling restart stopped`); break; }
      replaced.add(worker.id);
      worker.process.kill("SIGTERM");
      await exited(worker);
    }
    restarting = false;
    log("rolling restart done");
  };

  const stop = (): void => {
    if (stopping) return;
    stopping = true;
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
