/**
 * Throwaway Redis servers for the routing bench, so its Redis CPU is its own: a single
 * redis-server, or a Redis Cluster of masters (`--cluster-enabled yes`, `redis-cli --cluster
 * create`), on spare ports, without persistence.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createConnection, createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/** Running Redis processes. */
export interface RedisProcs {
  urls: string[];
  pids: number[];
  stop(): Promise<void>;
}

/** The redis-server binary, if installed. */
export function redisServerBinary(): string | undefined {
  return ["/usr/bin/redis-server", "/usr/local/bin/redis-server"].find((path) => existsSync(path));
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

async function sparePort(): Promise<number> {
  for (;;) {
    const port = 20000 + Math.floor(Math.random() * 30000);
    if (await portFree(port) && await portFree(port + 10000)) return port;
  }
}

function accepting(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: "127.0.0.1", port });
    socket.once("connect", () => { socket.destroy(); resolve(true); });
    socket.once("error", () => { socket.destroy(); resolve(false); });
  });
}

/** Starts `count` redis-servers (cluster nodes when `clustered`); a cluster is created and waited for. */
export async function startRedis(binary: string, count: number, clustered: boolean): Promise<RedisProcs> {
  const dir = mkdtempSync(join(tmpdir(), "cinder-bench-redis-"));
  const ports: number[] = [];
  for (let i = 0; i < count; i++) ports.push(await sparePort());
  const children: ChildProcess[] = ports.map((port) => spawn(binary, [
    "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir,
    ...(clustered ? ["--cluster-enabled", "yes", "--cluster-config-file", join(dir, `nodes-${port}.conf`)] : []),
  ], { stdio: "ignore" }));
  const stop = async (): Promise<void> => {
    await Promise.all(children.map((child) => child.exitCode !== null ? undefined : new Promise((resolve) => { child.once("exit", resolve); child.kill("SIGKILL"); })));
    rmSync(dir, { recursive: true, force: true });
  };
  for (const port of ports) {
    const deadline = Date.now() + 10_000;
    while (!(await accepting(port))) {
      if (Date.now() > deadline) { await stop(); throw new Error(`redis-server on ${port} did not start`); }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  if (clustered) {
    const cli = join(dirname(binary), "redis-cli");
    await run(cli, ["--cluster", "create", ...ports.map((port) => `127.0.0.1:${port}`), "--cluster-yes"]);
    for (const port of ports) {
      for (const deadline = Date.now() + 20_000; ;) {
        const { stdout } = await run(cli, ["-p", String(port), "cluster", "info"]);
        if (stdout.includes("cluster_state:ok")) break;
        if (Date.now() > deadline) { await stop(); throw new Error("the Redis Cluster did not become ok"); }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  }
  return { urls: ports.map((port) => `redis://127.0.0.1:${port}`), pids: children.map((child) => child.pid!), stop };
}
