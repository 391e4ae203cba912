/**
 * Test support: checks for the services a test needs. A missing service skips the test with a
 * message naming it — unless `CINDER_REQUIRE_SERVICES=1` (as in CI), where it fails the test.
 */
import { createConnection } from "node:net";
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
