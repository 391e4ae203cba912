/**
 * Test support for the apps: starts the real apps server in-process on SQLite (a temporary
 * DATA_DIR) or PostgreSQL (a fresh schema in the `test` database), restarts it on the same
 * storage, and drives it with the official `phoenix` client and `fetch`.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { createConnection } from "node:net";
import { after, type TestContext } from "node:test";
import { Presence, Socket, type Channel } from "phoenix";
import { WebSocket } from "ws";
import pg from "pg";
import { silentLogger } from "@cinder/server";
import { createApp, openStore, type App } from "../../src/app.js";
import type { Config } from "../../src/config.js";

/** The part of a WebSocket close event the tests read. */
interface CloseEvent {
  code: number;
}

/** The PostgreSQL the tests use. */
export const DATABASE_URL = process.env.CINDER_TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";

/** The ADMIN_PASSWORD of test apps (the account `admin` is created with it). */
export const TEST_ADMIN_PASSWORD = "admin password for tests";

/** Which database a test run uses. */
export type Engine = "sqlite" | "postgres";

/** True when PostgreSQL accepts connections. */
export function postgresReachable(): Promise<boolean> {
  const { hostname, port } = new URL(DATABASE_URL);
  return new Promise((resolve) => {
    const socket = createConnection({ host: hostname, port: Number(port || 5432) });
    const done = (ok: boolean): void => { socket.destroy(); resolve(ok); };
    socket.setTimeout(1000, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}

/** Skips (or, with CINDER_REQUIRE_SERVICES=1, fails) a test whose service is missing. */
export function missing(t: TestContext, what: string): void {
  if (process.env.CINDER_REQUIRE_SERVICES === "1") throw new Error(`${what} is required (CINDER_REQUIRE_SERVICES=1) but not available`);
  t.skip(`${what} not available; skipped`);
}

/** A running apps server on some storage, restartable on the same storage. */
export class TestApp {
  app!: App;
  base = "";
  readonly config: Config;
  private readonly schema: string | undefined;

  constructor(readonly engine: Engine) {
    const dataDir = mkdtempSync(join(tmpdir(), "cinder-apps-"));
    this.schema = engine === "postgres" ? `cinder_test_${randomBytes(5).toString("hex")}` : undefined;
    this.config = {
      port: 0, host: "127.0.0.1", dataDir, databaseUrl: engine === "postgres" ? DATABASE_URL : undefined,
      secretKeyBase: "test secret key base, long enough", admins: new Set(["admin"]), redisUrl: undefined,
      adminPassword: TEST_ADMIN_PASSWORD,
    };
  }

  /** Starts (or restarts) the server on this storage. */
  async start(): Promise<this> {
    const store = await openStore(this.config, this.schema);
    this.app = await createApp(this.config, { store, logger: silentLogger });
    await new Promise<void>((resolve) => this.app.server.listen(0, "127.0.0.1", resolve));
    const { port } = this.app.server.address() as { port: number };
    this.base = `http://127.0.0.1:${port}`;
    return this;
  }

  /** Stops the server, keeping the data. */
  async stop(): Promise<void> {
    await this.app.close();
  }

  /** Stops the server and deletes the data. */
  async destroy(): Promise<void> {
    await this.app.close().catch(() => undefined);
    rmSync(this.config.dataDir, { recursive: true, force: true });
    if (this.schema !== undefined) {
      const client = new pg.Client({ connectionString: DATABASE_URL });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS ${this.schema} CASCADE`);
      await client.end();
    }
  }

  /** Calls the JSON API. */
  async api(method: string, path: string, body?: unknown, token?: string): Promise<{ status: number; body: Record<string, unknown> }> {
    const response = await fetch(`${this.base}${path}`, {
      method,
      headers: { ...(body !== undefined ? { "content-type": "application/json" } : {}), ...(token !== undefined ? { authorization: `Bearer ${token}` } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    return { status: response.status, body: await response.json() as Record<string, unknown> };
  }

  /** Signs up a user; returns the token and user. */
  async signUp(username: string, password = "correct horse"): Promise<{ token: string; user: { id: number; username: string } }> {
    const { status, body } = await this.api("POST", "/api/users", { username, password });
    if (status !== 201) throw new Error(`sign-up of ${username} answered ${status}: ${JSON.stringify(body)}`);
    return body as { token: string; user: { id: number; username: string } };
  }

  /** A session token of the bootstrapped `admin` (ADMIN_PASSWORD is set in tests). */
  async adminToken(): Promise<string> {
    const { status, body } = await this.api("POST", "/api/session", { username: "admin", password: TEST_ADMIN_PASSWORD });
    if (status !== 200) throw new Error(`admin sign-in answered ${status}: ${JSON.stringify(body)}`);
    return String(body.token);
  }

  /** A phoenix.js client signed in with `token`. */
  client(token: string, params?: () => Record<string, unknown>): Client {
    return new Client(`${this.base.replace("http", "ws")}/socket`, token, params);
  }
}

/** A reply: status and response. */
export interface Reply {
  status: string;
  response: Record<string, unknown>;
}

/** A phoenix.js socket with promise helpers. */
export class Client {
  readonly socket: Socket;
  readonly events: Array<{ topic: string; event: string; payload: Record<string, unknown> }> = [];
  readonly closeCodes: number[] = [];

  constructor(url: string, token: string, params?: () => Record<string, unknown>) {
    this.socket = new Socket(url, { transport: WebSocket, params: params ?? { token }, reconnectAfterMs: () => 100, rejoinAfterMs: () => 100 });
    this.socket.onClose((event) => this.closeCodes.push((event as CloseEvent).code));
    this.socket.connect();
  }

  /** Joins `topic`; resolves with the channel and the join reply. */
  join(topic: string, params: Record<string, unknown> | (() => Record<string, unknown>) = {}, events: string[] = []): Promise<{ channel: Channel; reply: Reply; presence: Presence }> {
    const channel = this.socket.channel(topic, params);
    for (const event of events) channel.on(event, (payload) => this.events.push({ topic, event, payload: payload as Record<string, unknown> }));
    const presence = new Presence(channel);
    return new Promise((resolve) => {
      const push = channel.join(3000);
      for (const status of ["ok", "error", "timeout"]) {
        push.receive(status, (response) => resolve({ channel, reply: { status, response: response as Record<string, unknown> }, presence }));
      }
    });
  }

  /** Pushes and resolves with the reply. */
  call(channel: Channel, event: string, payload: object): Promise<Reply> {
    return new Promise((resolve) => {
      const push = channel.push(event, payload, 3000);
      for (const status of ["ok", "error", "timeout"]) push.receive(status, (response) => resolve({ status, response: response as Record<string, unknown> }));
    });
  }

  /** Waits for an event. */
  async next(topic: string, event: string, match: (payload: Record<string, unknown>) => boolean = () => true, timeoutMs = 3000): Promise<Record<string, unknown>> {
    return until(() => this.events.find((e) => e.topic === topic && e.event === event && match(e.payload))?.payload, timeoutMs, `${event} on ${topic}`);
  }

  /** Disconnects. */
  close(): void {
    this.socket.disconnect();
  }
}

/** Waits until `check` returns something other than undefined/false. */
export async function until<T>(check: () => T | undefined | false, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 15));
  }
}

/**
 * One app shared by a file's tests on `engine`, started on first use and destroyed (with the
 * clients it handed out) after the file; `setup` answers undefined (the test skipped) when
 * PostgreSQL is wanted but not reachable.
 */
export function sharedTestApp(engine: Engine): { setup(t: TestContext): Promise<TestApp | undefined>; client(app: TestApp, token: string): Client } {
  let shared: TestApp | undefined;
  const clients: Client[] = [];
  after(async () => {
    for (const client of clients) client.close();
    await shared?.destroy();
  });
  return {
    async setup(t) {
      if (engine === "postgres" && !(await postgresReachable())) {
        missing(t, "PostgreSQL");
        return undefined;
      }
      shared ??= await new TestApp(engine).start();
      return shared;
    },
    client(app, token) {
      const client = app.client(token);
      clients.push(client);
      return client;
    },
  };
}
