/**
 * One-machine mode: runs N worker processes on one box sharing a port (node:cluster), joined
 * by the Redis adapter, so a multi-core machine uses all its cores. The primary only forks and
 * restarts workers that die; each worker runs the server with its own node name. The primary
 * gives every worker one shared secret (`CINDER_CLUSTER_SECRET`, kept if already set), which
 * long-poll session tokens need, since consecutive polls may reach different workers.
 */
import cluster from "node:cluster";
import { randomBytes } from "node:crypto";

/** Where a process stands in one-machine mode. */
export type WorkerRole = { role: "primary" } | { role: "single" } | { role: "worker"; id: number };

/**
 * With `workers > 1`, forks that many workers in the primary (restarting any that exit
 * unexpectedly) and returns `{role: "primary"}`, which should not start a server; in a worker
 * returns `{role: "worker", id}`. With `workers <= 1` returns `{role: "single"}`.
 */
export function forkWorkers(workers: number, log: (message: string) => void = console.error): WorkerRole {
  if (cluster.isWorker) return { role: "worker", id: cluster.worker?.id ?? 0 };
  if (!Number.isInteger(workers) || workers <= 1) return { role: "single" };
  let stopping = false;
  process.env.CINDER_CLUSTER_SECRET ??= randomBytes(32).toString("base64url");
  for (let i = 0; i < workers; i++) cluster.fork();
  cluster.on("exit", (worker, code, signal) => {
    if (stopping) return;
    log(`worker ${worker.id} exited (${signal ?? code}); starting another`);
    cluster.fork();
  });
  const stop = (signal: NodeJS.Signals): void => {
    stopping = true;
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill(signal);
    setTimeout(() => process.exit(0), 5_000).unref();
    let alive = Object.keys(cluster.workers ?? {}).length;
    cluster.on("exit", () => { if (--alive <= 0) process.exit(0); });
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGTERM"));
  return { role: "primary" };
}

/** Reads `--workers N` from argv, else `CINDER_WORKERS`, else 1. */
export function workersFromArgs(argv: readonly string[] = process.argv, env: NodeJS.ProcessEnv = process.env): number {
  const index = argv.indexOf("--workers");
  const raw = index >= 0 ? argv[index + 1] : env.CINDER_WORKERS;
  const n = Number(raw ?? 1);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--workers must be a positive integer, got ${String(raw)}`);
  return n;
}
