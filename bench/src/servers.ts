/**
 * The three benchmarked servers, each started in its own child process with `--expose-gc` and
 * the probe preload (heap after GC and CPU profiles on request over IPC):
 *
 * - Cinder: the conformance server (`apps/conformance/dist/src/server.js`, the lean Cinder
 *   server the fan-out targets are checked on), `PORT=0 LOG_LEVEL=warn`; `workers` > 1 runs it
 *   with `--workers N` (node:cluster on one port, joined by Redis);
 * - Socket.IO 4: bench/src/servers/socketio-server.ts;
 * - bare ws: bench/src/servers/ws-server.ts.
 */
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { childPids } from "./machine.js";
import { startServer, type ServerChild } from "./server-child.js";
import type { ServerId } from "./load/dialects.js";

/** Where things are. */
export interface Paths {
  repoRoot: string;
  /** bench/dist/src */
  distSrc: string;
}

/** Display names. */
export const LABELS: Record<ServerId, string> = { cinder: "Cinder", socketio: "Socket.IO", ws: "ws" };

/** Every server, in table order. */
export const SERVER_IDS: readonly ServerId[] = ["cinder", "socketio", "ws"];

/** A started server and the pids whose CPU counts as its own. */
export interface RunningServer {
  id: ServerId;
  child: ServerChild;
  port: number;
  /** The process, plus its cluster workers when there are any. */
  pids(): number[];
}

/** Options for `launch`. */
export interface LaunchOptions {
  /** Cinder only: run `--workers N` (needs Redis). */
  workers?: number;
  /** Cinder with workers only: `--accept shared|primary` (the server's own default when absent). */
  accept?: "shared" | "primary";
  /** Extra environment (e.g. CINDER_REDIS_NAMESPACE; BENCH_SIO_RECOVERY=1 for Socket.IO). */
  env?: Record<string, string>;
  /** `node --cpu-prof` into this directory, for the whole life of the process (cluster workers too; a killed one writes none). */
  cpuProfileDir?: string;
}

/** Starts server `id` and waits (bounded) until it listens. */
export async function launch(id: ServerId, paths: Paths, options: LaunchOptions = {}): Promise<RunningServer> {
  const probe = pathToFileURL(join(paths.distSrc, "servers", "probe.js")).href;
  const nodeArgs = ["--expose-gc", "--import", probe];
  const common = { cwd: paths.repoRoot, timeoutMs: 30_000, nodeArgs, ipc: true, ...(options.cpuProfileDir !== undefined ? { cpuProfileDir: options.cpuProfileDir } : {}) };
  let child: ServerChild;
  const workers = options.workers ?? 1;
  if (id === "cinder") {
    child = await startServer({
      ...common,
      name: "the Cinder conformance server",
      script: join(paths.repoRoot, "apps", "conformance", "dist", "src", "server.js"),
      args: workers > 1 ? ["--workers", String(workers), ...(options.accept !== undefined ? ["--accept", options.accept] : [])] : [],
      readyCount: workers,
      env: { CINDER_DRAIN_WINDOW_MS: "200", ...(options.env ?? {}) },
    });
  } else {
    const file = id === "socketio" ? "socketio-server.js" : "ws-server.js";
    child = await startServer({
      ...common,
      name: `the ${LABELS[id]} server`,
      script: join(paths.distSrc, "servers", file),
      ...(options.env !== undefined ? { env: options.env } : {}),
      ready: id === "socketio" ? /bench socket\.io listening on http:\/\/[^:]+:(\d+)/ : /bench ws listening on http:\/\/[^:]+:(\d+)/,
    });
  }
  let workerPids: number[] | undefined;
  return {
    id,
    child,
    port: child.port,
    pids() {
      if (workers <= 1) return [child.pid];
      if (workerPids === undefined || workerPids.length < workers) workerPids = childPids(child.pid);
      return [child.pid, ...workerPids];
    },
  };
}

/** Heap and RSS of a (single-process) server after a full GC, via the probe. */
export async function memoryAfterGc(server: RunningServer): Promise<{ rss: number; heapUsed: number; heapTotal: number; external: number; arrayBuffers: number }> {
  const answer = await server.child.request("mem");
  const mem = answer.mem as NodeJS.MemoryUsage;
  return { rss: mem.rss, heapUsed: mem.heapUsed, heapTotal: mem.heapTotal, external: mem.external, arrayBuffers: mem.arrayBuffers };
}
