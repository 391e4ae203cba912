/**
 * Test support: checks for the services a test needs. A missing service skips the test with a
 * message naming it — unless `CINDER_REQUIRE_SERVICES=1` (as in CI), where it fails the test.
 */
import { createConnection, createServer } from "node:net";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import type { TestContext } from "node:test";

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
