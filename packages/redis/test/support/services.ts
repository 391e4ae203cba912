/**
 * Test support: checks for the services a test needs. A missing service skips the test with a
 * message naming it — unless `CINDER_REQUIRE_SERVICES=1` (as in CI), where it fails the test.
 */
import { createConnection, createServer } from "node:net";
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { promisify } from "node:util";
import { dirname, join } from "node:path";
import type { TestContext } from "node:test";
import { Redis } from "ioredis";
import { hashSlot } from "../../src/slot.js";

/** The shared Redis the tests use. */
export const REDIS_URL = process.env.CINDER_TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

/** True when something accepts TCP connections at `url`'s host and port. */
export function reachable(url: string, timeoutMs = 1000): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = createConnection({ host: hostname, port: Number(port) });
    const done = (ok: boolean): void => { socket.destroy(); resolve(ok); };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}

/** The redis-server binary, if installed. */
export function redisServerBinary(): string | undefined {
  return ["/usr/bin/redis-server", "/usr/local/bin/redis-server"].find((path) => existsSync(path));
}

/** Skips `t` (or fails it when services are required) because `what` is missing. */
export function missing(t: TestContext, what: string): void {
  if (process.env.CINDER_REQUIRE_SERVICES === "1") throw new Error(`${what} is required (CINDER_REQUIRE_SERVICES=1) but not available`);
  t.skip(`${what} not available; skipped`);
}

/** A TCP port free on 127.0.0.1 right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

/** Starts a throwaway redis-server (no persistence) on `port` and waits until it accepts connections. */
export async function startRedis(binary: string, port: number): Promise<ChildProcess> {
  const child = spawn(binary, ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], { stdio: "ignore" });
  const deadline = Date.now() + 5000;
  while (!(await reachable(`redis://127.0.0.1:${port}`, 200))) {
    if (Date.now() > deadline) throw new Error("redis-server did not start");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return child;
}

/** A throwaway Redis Cluster of masters on 127.0.0.1 (no replicas, no persistence). */
export interface RedisClusterHandle {
  /** `redis://127.0.0.1:<port>` of every master. */
  urls: string[];
  ports: number[];
  /** SIGKILLs master `i`. */
  kill(i: number): Promise<void>;
  /** Starts master `i` again with its cluster config: it rejoins with its slots. */
  restart(i: number): Promise<void>;
  /** The index of the master that serves `name`'s hash slot (a key or a shard channel). */
  masterOf(name: string): Promise<number>;
  /** Kills every master and removes their files. */
  stop(): Promise<void>;
}

async function clusterPort(taken: Set<number>): Promise<number> {
  for (;;) {
    const port = await freePort();
    // The cluster bus listens on port + 10000, which must be free too.
    if (port + 10000 > 65535 || taken.has(port)) continue;
    const bus = await new Promise<boolean>((resolve) => {
      const server = createServer();
      server.once("error", () => resolve(false));
      server.listen(port + 10000, "127.0.0.1", () => server.close(() => resolve(true)));
    });
    if (bus) return port;
  }
}

/**
 * Starts `masters` redis-server processes with `--cluster-enabled yes` on spare ports, joins
 * them with `redis-cli --cluster create`, and waits until every node says `cluster_state:ok`.
 */
export async function startRedisCluster(binary: string, masters = 3): Promise<RedisClusterHandle> {
  const run = promisify(execFile);
  const dir = mkdtempSync(join(tmpdir(), "cinder-redis-cluster-"));
  const taken = new Set<number>();
  const ports: number[] = [];
  for (let i = 0; i < masters; i++) {
    const port = await clusterPort(taken);
    taken.add(port);
    ports.push(port);
  }
  const processes: Array<ChildProcess | undefined> = [];
  const launch = async (i: number): Promise<void> => {
    const port = ports[i]!;
    const child = spawn(binary, [
      "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
      "--cluster-enabled", "yes", "--cluster-config-file", join(dir, `nodes-${port}.conf`), "--cluster-node-timeout", "2000",
      "--cluster-require-full-coverage", "no", "--dir", dir,
    ], { stdio: "ignore" });
    processes[i] = child;
    const deadline = Date.now() + 5000;
    while (!(await reachable(`redis://127.0.0.1:${port}`, 200))) {
      if (Date.now() > deadline) throw new Error(`redis-server (cluster node ${port}) did not start`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };
  const cli = join(dirname(binary), "redis-cli");
  const clusterOk = async (): Promise<void> => {
    const deadline = Date.now() + 15_000;
    for (const port of ports) {
      for (;;) {
        const { stdout } = await run(cli, ["-p", String(port), "cluster", "info"]).catch(() => ({ stdout: "" }));
        if (stdout.includes("cluster_state:ok") && /cluster_known_nodes:(\d+)/.exec(stdout)?.[1] === String(masters)) break;
        if (Date.now() > deadline) throw new Error(`Redis Cluster node ${port} not ok: ${stdout}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  };
  const stopAll = async (): Promise<void> => {
    await Promise.all(processes.map((child) => child === undefined || child.exitCode !== null || child.signalCode !== null
      ? undefined : new Promise((resolve) => { child.once("exit", resolve); child.kill("SIGKILL"); })));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await Promise.all(ports.map((_, i) => launch(i)));
    await run(cli, ["--cluster", "create", ...ports.map((port) => `127.0.0.1:${port}`), "--cluster-yes"]);
    await clusterOk();
  } catch (error) {
    await stopAll();
    throw error;
  }
  return {
    urls: ports.map((port) => `redis://127.0.0.1:${port}`),
    ports,
    async kill(i) {
      const child = processes[i];
      if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
      await new Promise((resolve) => { child.once("exit", resolve); child.kill("SIGKILL"); });
    },
    async restart(i) {
      await launch(i);
      await clusterOk();
    },
    async masterOf(name) {
      const slot = hashSlot(name);
      for (const port of ports) {
        const client = new Redis(`redis://127.0.0.1:${port}`, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
        try {
          await client.connect();
          const ranges = await client.cluster("SLOTS");
          const range = ranges.find(([start, end]) => slot >= start && slot <= end);
          const master = range?.[2];
          if (master !== undefined) return ports.indexOf(Number(master[1]));
        } catch {
          // a master that is down: ask the next one
        } finally {
          client.disconnect();
        }
      }
      throw new Error(`no master serves slot ${slot}`);
    },
    stop: stopAll,
  };
}
