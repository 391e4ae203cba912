// The server under test: env CINDER_CONFORMANCE_URL (http base URL, socket at <url>/socket), or
// the compiled conformance server (dist/src/server.js) spawned with PORT=0 and a short long-poll
// window, found by the "listening on http://…" line on its stdout. One server per test file
// (process); the clients a test creates are closed after it.

import { spawn, type ChildProcess } from "node:child_process";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { existsSync } from "node:fs";
import { request } from "node:http";
import { after, afterEach, before } from "node:test";
import { within } from "./util.js";

/** Where the server under test listens, and its long-poll window. */
export interface ServerInfo {
  /** http base, e.g. http://127.0.0.1:4001 */
  readonly http: string;
  /** ws mount URL for the phoenix client, e.g. ws://127.0.0.1:4001/socket */
  readonly socket: string;
  /** the websocket transport URL, e.g. ws://127.0.0.1:4001/socket/websocket */
  readonly websocket: string;
  /** the long-poll transport URL, e.g. http://127.0.0.1:4001/socket/longpoll */
  readonly longpoll: string;
  /**
   * The server's long-poll window (ms): what the harness gave a spawned server, or
   * CINDER_CONFORMANCE_LONGPOLL_WINDOW_MS for an external one (default 10 000).
   */
  readonly longpollWindowMs: number;
  /** the server's output so far (spawned server only) */
  output(): string;
}

const here = dirname(fileURLToPath(import.meta.url));
/** dist/test/harness/servers.js → dist/src/server.js */
export const serverScript = resolve(here, "../../src/server.js");

/** Long-poll window of a server the harness spawns: short, so long-poll scenarios stay fast. */
export const SPAWNED_LONGPOLL_WINDOW_MS = 1000;

/** The long-poll window: CINDER_CONFORMANCE_LONGPOLL_WINDOW_MS, else `fallback`. */
function windowFromEnv(fallback: number): number {
  const raw = process.env.CINDER_CONFORMANCE_LONGPOLL_WINDOW_MS;
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`CINDER_CONFORMANCE_LONGPOLL_WINDOW_MS must be a positive number, got ${raw}`);
  return n;
}

/**
 * The long-poll window of the server under test, known before it starts (test timeouts use it):
 * CINDER_CONFORMANCE_LONGPOLL_WINDOW_MS, else 10 000 for an external server
 * (CINDER_CONFORMANCE_URL) and SPAWNED_LONGPOLL_WINDOW_MS for a spawned one.
 */
export const LONGPOLL_WINDOW_MS = windowFromEnv(process.env.CINDER_CONFORMANCE_URL ? 10_000 : SPAWNED_LONGPOLL_WINDOW_MS);

/**
 * The longest an idle long-poll session may live after its last poll: the server reaps sessions
 * 1.5–3 windows after their last GET (docs/protocol.md §4.3), plus some slack.
 */
export const LONGPOLL_REAP_MAX_MS = 3 * LONGPOLL_WINDOW_MS + Math.max(1000, LONGPOLL_WINDOW_MS / 2);

function infoFor(base: string, output: () => string, longpollWindowMs: number): ServerInfo {
  const http = base.replace(/\/+$/, "");
  const ws = http.replace(/^http/, "ws");
  return { http, socket: `${ws}/socket`, websocket: `${ws}/socket/websocket`, longpoll: `${http}/socket/longpoll`, longpollWindowMs, output };
}

async function spawnServer(): Promise<{ info: ServerInfo; child: ChildProcess }> {
  if (!existsSync(serverScript)) {
    throw new Error(`conformance server not built: ${serverScript} does not exist (run \`npx tsc -b\`), ` +
      `or set CINDER_CONFORMANCE_URL to a running server`);
  }
  const windowMs = LONGPOLL_WINDOW_MS;
  const child = spawn(process.execPath, [serverScript], {
    env: { ...process.env, PORT: "0", CINDER_LONGPOLL_WINDOW_MS: String(windowMs) },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  const output = () => out;
  const url = await new Promise<string>((resolveUrl, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not print "listening on http://…" within 10 s; output:\n${out}`)), 10_000);
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m && m[1]) { clearTimeout(timer); resolveUrl(m[1]); }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", (c: Buffer) => { out += c.toString(); });
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`server exited early (code ${code}, signal ${signal}); output:\n${out}`));
    });
    child.on("error", (err) => { clearTimeout(timer); reject(err); });
  });
  child.removeAllListeners("exit");
  child.on("exit", (code, signal) => {
    if (stopping) return;
    unexpectedExit = `conformance server exited unexpectedly (code ${code}, signal ${signal}); its output:\n${out}`;
    process.stderr.write(`\n[harness] ${unexpectedExit}\n`);
  });
  return { info: infoFor(url, output, windowMs), child };
}

let stopping = false;
let unexpectedExit: string | null = null;
/** Set when the spawned server died while the tests were running. */
export function serverExit(): string | null { return unexpectedExit; }

let current: { info: ServerInfo; child: ChildProcess | null } | null = null;
const cleanups = new Set<() => void | Promise<void>>();

/** Is the spawned server process still alive? (always true for an external server) */
export function serverAlive(): boolean {
  if (!current?.child) return true;
  return current.child.exitCode === null && current.child.signalCode === null;
}

const currentInfo = (): ServerInfo => {
  if (!current) throw new Error("server not started (useServer's before hook has not run)");
  return current.info;
};

/**
 * The server of this test file (process), as started or located by useServer's before hook:
 * its fields can be read once that hook ran (in tests, not at module load).
 */
export const server: ServerInfo = {
  get http() { return currentInfo().http; },
  get socket() { return currentInfo().socket; },
  get websocket() { return currentInfo().websocket; },
  get longpoll() { return currentInfo().longpoll; },
  get longpollWindowMs() { return currentInfo().longpollWindowMs; },
  output: () => currentInfo().output(),
};

let serverHooks = false;

/**
 * Registers before/after hooks that start (or locate) the server for this test file, and an
 * afterEach hook that closes every client the test created. Returns the server info (`server`,
 * valid once the before hook ran). Call it once per test file, at its top level.
 */
export function useServer(): ServerInfo {
  if (serverHooks) return server;
  serverHooks = true;
  before(async () => {
    const external = process.env.CINDER_CONFORMANCE_URL;
    if (external) {
      current = { info: infoFor(external, () => "(external server: output not captured)", LONGPOLL_WINDOW_MS), child: null };
    } else {
      const s = await spawnServer();
      current = { info: s.info, child: s.child };
    }
  }, { timeout: 15_000 });
  afterEach(async () => {
    const fns = [...cleanups];
    cleanups.clear();
    for (const fn of fns) {
      try { await fn(); } catch { /* best effort */ }
    }
  });
  after(async () => {
    const child = current?.child;
    stopping = true;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((r) => child.once("exit", () => r()));
      child.kill("SIGTERM");
      const t = setTimeout(() => child.kill("SIGKILL"), 3000);
      await exited;
      clearTimeout(t);
    }
  });
  return server;
}

/** Registers something to be closed after the current test. */
export function onCleanup(fn: () => void | Promise<void>): void { cleanups.add(fn); }

/** An HTTP POST of `body` (JSON unless a string) to `path` on the server (e.g. /broadcast); returns the status and body. */
export function httpPost(server: ServerInfo, path: string, body: unknown, ms = 3000): Promise<{ status: number; body: string }> {
  const url = new URL(path, server.http);
  const data = Buffer.from(typeof body === "string" ? body : JSON.stringify(body));
  return within(new Promise((resolveP, reject) => {
    const req = request(url, { method: "POST", headers: { "content-type": "application/json", "content-length": data.length } }, (res) => {
      let text = "";
      res.on("data", (c: Buffer) => { text += c.toString(); });
      res.on("end", () => resolveP({ status: res.statusCode ?? -1, body: text }));
    });
    req.on("error", reject);
    req.end(data);
  }), ms, `POST ${url}`);
}

