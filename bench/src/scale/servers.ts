/**
 * The servers of the scale scenario, each a child process (server-child.ts) with `--workers N`
 * (node:cluster on one port; N > 1 joins the workers by Redis), and how the runner broadcasts to
 * the one topic every connection joined — always over HTTP, so the broadcast enters one worker
 * and reaches the others through Redis:
 *
 * - `cinder`: the conformance server (apps/conformance); topic `echo:scale` (the echo channel,
 *   Phoenix V2), `POST /broadcast {topic, event: "broadcasted", payload}`; its Redis channels
 *   under this run's own `CINDER_REDIS_NAMESPACE`.
 * - `demo`: `npm start` (apps/demo/dist/src/server.js) on a seeded SQLite DATA_DIR
 *   (demo-seed.ts); topic `notifications:all` (every page joins it; presence tracks each user on
 *   it), the admin's `POST /api/admin/broadcast {body}` → `new_msg`. The demo reads no Redis
 *   namespace setting, so its channels are under the default `cinder:`.
 * - `socketio`: Socket.IO 4 (socketio-cluster.ts) with `@socket.io/redis-adapter`; room
 *   `scale`, `POST /broadcast {topic, data}`; its Redis key prefix is this run's own.
 * - `ws`: the floor, bare `ws` (ws-cluster.ts) with one Redis channel; topic `scale`,
 *   `POST /broadcast {topic, data}`; its Redis key is this run's own.
 */
import { rmSync } from "node:fs";
import { join } from "node:path";
import { childPids } from "../machine.js";
import { startServer, type ServerChild } from "../server-child.js";
import { seedDemo } from "./demo-seed.js";
import { demoBody, scalePayload, type ScaleServerId } from "./protocol.js";

/** Display names. */
export const SCALE_LABELS: Record<ScaleServerId, string> = {
  cinder: "Cinder (conformance)", demo: "Cinder demo (npm start)", socketio: "Socket.IO 4 + Redis adapter", ws: "bare ws + Redis pub/sub (floor)",
};

/** A started server of the scenario. */
export interface ScaleServer {
  id: ScaleServerId;
  workers: number;
  /** `ws://127.0.0.1:<port>` */
  base: string;
  topic: string;
  child: ServerChild;
  /** Demo only: connection i's socket token. */
  tokens?: string[];
  /** The primary and its workers (or the one process). */
  pids(): number[];
  /** Sends broadcast `seq` stamped `sentAt` to every connection; rejects when the server refuses it. */
  broadcast(seq: number, sentAt: number): Promise<void>;
  /** Stops it (and removes the demo's temporary data). */
  stop(): Promise<void>;
}

/** What `launchScale` needs. */
export interface ScaleLaunch {
  repoRoot: string;
  /** bench/dist/src */
  distSrc: string;
  workers: number;
  /** `--accept` for Cinder's servers (conformance, demo) with workers; undefined: their default. */
  accept?: "shared" | "primary" | undefined;
  connections: number;
  redisUrl: string;
  /** This run's prefix for Redis channels (Cinder namespace, Socket.IO adapter key). */
  namespace: string;
}

async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<void> {
  const response = await fetch(url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
  if (!response.ok) throw new Error(`POST ${url} answered ${response.status}: ${(await response.text()).slice(0, 200)}`);
  await response.arrayBuffer();
}

/** Starts server `id` with `options.workers` workers and waits (bounded) until every worker listens. */
export async function launchScale(id: ScaleServerId, options: ScaleLaunch): Promise<ScaleServer> {
  const { workers, repoRoot } = options;
  const args = workers > 1 ? ["--workers", String(workers)] : [];
  const cinderArgs = workers > 1 && options.accept !== undefined ? [...args, "--accept", options.accept] : args;
  const common = { cwd: repoRoot, timeoutMs: 60_000, args, readyCount: workers };
  let child: ServerChild;
  let topic: string;
  let broadcast: (port: number, seq: number, sentAt: number) => Promise<void>;
  let tokens: string[] | undefined;
  let cleanup = async (): Promise<void> => {};
  if (id === "cinder") {
    topic = "echo:scale";
    child = await startServer({
      ...common, args: cinderArgs, name: "the Cinder conformance server",
      script: join(repoRoot, "apps", "conformance", "dist", "src", "server.js"),
      env: { CINDER_DRAIN_WINDOW_MS: "200", ...(workers > 1 ? { CINDER_REDIS_URL: options.redisUrl, CINDER_REDIS_NAMESPACE: options.namespace } : {}) },
    });
    broadcast = (port, seq, sentAt) => post(`http://127.0.0.1:${port}/broadcast`, { topic, event: "broadcasted", payload: scalePayload(seq, sentAt) });
  } else if (id === "demo") {
    topic = "notifications:all";
    const seed = await seedDemo(repoRoot, options.connections);
    tokens = seed.tokens;
    cleanup = async () => rmSync(seed.dataDir, { recursive: true, force: true });
    try {
      child = await startServer({
        ...common, args: cinderArgs, name: "the demo (npm start)",
        script: join(repoRoot, "apps", "demo", "dist", "src", "server.js"),
        ready: /cinder apps listening on http:\/\/[^:]+:(\d+)/,
        env: {
          DATA_DIR: seed.dataDir, SECRET_KEY_BASE: seed.secret, HOST: "127.0.0.1", CINDER_DRAIN_WINDOW_MS: "200",
          ...(workers > 1 ? { CINDER_REDIS_URL: options.redisUrl } : {}),
        },
      });
    } catch (error) {
      await cleanup();
      throw error;
    }
    broadcast = (port, seq, sentAt) => post(`http://127.0.0.1:${port}/api/admin/broadcast`, { body: demoBody(seq, sentAt) }, { authorization: `Bearer ${seed.adminToken}` });
  } else if (id === "ws") {
    topic = "scale";
    child = await startServer({
      ...common, name: "the bare ws cluster",
      script: join(options.distSrc, "scale", "ws-cluster.js"),
      ready: /bench ws listening on http:\/\/[^:]+:(\d+)/,
      env: { REDIS_URL: options.redisUrl, WS_REDIS_KEY: options.namespace },
    });
    broadcast = (port, seq, sentAt) => post(`http://127.0.0.1:${port}/broadcast`, { topic, data: scalePayload(seq, sentAt) });
  } else {
    topic = "scale";
    child = await startServer({
      ...common, name: "the Socket.IO cluster",
      script: join(options.distSrc, "scale", "socketio-cluster.js"),
      ready: /bench socket\.io listening on http:\/\/[^:]+:(\d+)/,
      env: { REDIS_URL: options.redisUrl, SIO_REDIS_KEY: options.namespace },
    });
    broadcast = (port, seq, sentAt) => post(`http://127.0.0.1:${port}/broadcast`, { topic, data: scalePayload(seq, sentAt) });
  }
  let workerPids: number[] = [];
  const running = child;
  return {
    id, workers, base: `ws://127.0.0.1:${running.port}`, topic, child: running,
    ...(tokens !== undefined ? { tokens } : {}),
    pids() {
      if (workers <= 1) return [running.pid];
      if (workerPids.length < workers) workerPids = childPids(running.pid);
      return [running.pid, ...workerPids];
    },
    broadcast: (seq, sentAt) => broadcast(running.port, seq, sentAt),
    async stop() {
      await running.stop(5_000);
      await cleanup();
    },
  };
}
