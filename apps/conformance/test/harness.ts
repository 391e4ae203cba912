// Shared harness for the Phoenix-protocol conformance suite.
//
// - Finds the server: env CINDER_CONFORMANCE_URL (http base URL, socket at <url>/socket), or spawns
//   the compiled conformance server (dist/src/server.js, next to this file's dist/test) with PORT=0
//   and a short long-poll window, and waits for "listening on http://…" on its stdout.
// - RawClient: a hand-written `ws` client that sends exact V1/V2/binary frames and records every
//   frame it receives.
// - phxSocket(): a client with the phoenix.js API — the official `phoenix` client or
//   `@cinder/client` (`clients`, CINDER_CONFORMANCE_CLIENTS) — over a recording `ws` transport or
//   a recording subclass of the client's own LongPoll (`via: "longpoll"`), so tests can look at
//   the exact frames (and, for long-poll, the HTTP exchanges) the client sent and received.
// - clientSuite(): the entry point of the per-client test files (`<area>.phoenix.test.ts`,
//   `<area>.cinder.test.ts`), which run an area's client-driven scenarios (`<area>.scenarios.ts`)
//   with one client, in a process (and against a server) of their own.
// - RawLongPoll / lpFetch(): hand-written long-poll HTTP requests (docs/protocol.md §4).
// Every wait is bounded; failures print the frames seen so far.

import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { existsSync } from "node:fs";
import { request } from "node:http";
import { after, afterEach, before, test } from "node:test";
import WebSocket from "ws";
import * as phoenix from "phoenix";
import type { Channel, Push, SocketOptions } from "phoenix";
import * as cinder from "@cinder/client";

// ---------------------------------------------------------------------------------------------
// small utilities

export const delay = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `cond` every 5 ms until true, or throws after `ms` with `desc` (and `detail()` if given). */
export async function waitUntil(cond: () => boolean, ms: number, desc: string, detail?: () => string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${ms} ms waiting for: ${desc}${detail ? `\n${detail()}` : ""}`);
    }
    await delay(5);
  }
}

/** Races a promise against a timeout with a helpful message. */
export function within<T>(p: Promise<T>, ms: number, desc: string, detail?: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for: ${desc}${detail ? `\n${detail()}` : ""}`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

let uniq = 0;
/** A fresh topic under `echo:` so tests never see each other's broadcasts. */
export function topic(name = "t"): string {
  uniq += 1;
  return `echo:${name}-${process.pid}-${uniq}-${Math.random().toString(36).slice(2, 8)}`;
}

// ---------------------------------------------------------------------------------------------
// transports

/** The transports the client-driven scenarios run over. */
export type Via = "websocket" | "longpoll";

/**
 * Every transport, or those listed in CINDER_CONFORMANCE_TRANSPORTS (comma separated, e.g.
 * `longpoll`). Scenarios that use a client loop over this list.
 */
export const transports: readonly Via[] = (() => {
  const all: Via[] = ["websocket", "longpoll"];
  const wanted = (process.env.CINDER_CONFORMANCE_TRANSPORTS ?? "").split(",").map((s) => s.trim()).filter((s) => s !== "");
  if (wanted.length === 0) return all;
  for (const w of wanted) if (!all.includes(w as Via)) throw new Error(`CINDER_CONFORMANCE_TRANSPORTS: unknown transport ${w}`);
  return all.filter((v) => wanted.includes(v));
})();

/**
 * Close codes a client reports when the server ends its connection through a `"disconnect"` on
 * the socket id: WebSocket 1001; long-poll 3410 `session_gone` (a GET answered 410 while the client
 * holds a token) or 1011 (the client's own POST that triggered it was answered `{"status":410}`).
 */
export function serverDropCodes(via: Via): number[] {
  return via === "websocket" ? [1001] : [3410, 1011];
}

// ---------------------------------------------------------------------------------------------
// clients

/** The clients the client-driven scenarios run with. */
export type ClientName = "phoenix" | "cinder";

/**
 * A client with phoenix.js 1.8's API. `@cinder/client`'s classes are typed here with the
 * suite's phoenix typings (phoenix.d.ts): the scenarios use the API both clients share.
 */
export interface Client {
  readonly name: ClientName;
  /** how messages name it: "phoenix.js" or "@cinder/client" */
  readonly label: string;
  readonly Socket: typeof phoenix.Socket;
  readonly LongPoll: typeof phoenix.LongPoll;
  readonly Presence: typeof phoenix.Presence;
}

export const CLIENTS: Readonly<Record<ClientName, Client>> = {
  phoenix: { name: "phoenix", label: "phoenix.js", Socket: phoenix.Socket, LongPoll: phoenix.LongPoll, Presence: phoenix.Presence },
  cinder: {
    name: "cinder",
    label: "@cinder/client",
    Socket: cinder.Socket as unknown as typeof phoenix.Socket,
    LongPoll: cinder.LongPoll as unknown as typeof phoenix.LongPoll,
    Presence: cinder.Presence as unknown as typeof phoenix.Presence,
  },
};

/**
 * Every client, or those listed in CINDER_CONFORMANCE_CLIENTS (comma separated: `phoenix`,
 * `cinder`). The per-client test files of a client that is not listed register one skipped test.
 */
export const clients: readonly ClientName[] = (() => {
  const all: ClientName[] = ["phoenix", "cinder"];
  const wanted = (process.env.CINDER_CONFORMANCE_CLIENTS ?? "").split(",").map((s) => s.trim()).filter((s) => s !== "");
  if (wanted.length === 0) return all;
  for (const w of wanted) if (!all.includes(w as ClientName)) throw new Error(`CINDER_CONFORMANCE_CLIENTS: unknown client ${w} (phoenix, cinder)`);
  return all.filter((c) => wanted.includes(c));
})();

// ---------------------------------------------------------------------------------------------
// server

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
/** dist/test/harness.js → dist/src/server.js */
export const serverScript = resolve(here, "../src/server.js");

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

/**
 * The body of a per-client test file (`<area>.<client>.test.ts`): when `name` is one of the
 * selected `clients`, starts the file's server (useServer) and registers the area's client-driven
 * scenarios for that client; otherwise registers one skipped test saying so (no server).
 */
export function clientSuite(name: ClientName, scenarios: (client: Client) => void): void {
  if (!clients.includes(name)) {
    test(`${scenarios.name} [${name}]`, { skip: `${name} is not in CINDER_CONFORMANCE_CLIENTS=${process.env.CINDER_CONFORMANCE_CLIENTS}` }, () => {});
    return;
  }
  useServer();
  scenarios(CLIENTS[name]);
}

/** Registers something to be closed after the current test. */
export function onCleanup(fn: () => void | Promise<void>): void { cleanups.add(fn); }

// ---------------------------------------------------------------------------------------------
// binary frames (docs/protocol.md §2.3)

export type BinaryMessage =
  | { kind: 0; joinRef: string; topic: string; event: string; payload: Buffer }
  | { kind: 1; joinRef: string; ref: string; topic: string; status: string; payload: Buffer }
  | { kind: 2; topic: string; event: string; payload: Buffer };

/** Client → server kind 0 push: [0][len jr][len ref][len topic][len event] jr ref topic event payload. */
export function encodeClientPush(joinRef: string | null, ref: string | null, topicName: string, event: string, payload: Uint8Array): Buffer {
  const parts = [joinRef ?? "", ref ?? "", topicName, event].map((s) => Buffer.from(s, "utf8"));
  for (const p of parts) if (p.length > 255) throw new Error("field longer than 255 bytes");
  return Buffer.concat([Buffer.from([0, ...parts.map((p) => p.length)]), ...parts, Buffer.from(payload)]);
}

/**
 * Strictly decodes a server → client binary frame. Returns an error string when the frame is
 * malformed (unknown kind, header lengths running past the end, invalid UTF-8).
 */
export function decodeServerBinary(buf: Buffer): BinaryMessage | string {
  const kind = buf[0];
  const utf8 = new TextDecoder("utf-8", { fatal: true });
  let offset: number;
  const take = (len: number, name: string): string => {
    if (offset + len > buf.length) throw new Error(`${name} (${len} bytes at ${offset}) runs past the end (${buf.length} bytes)`);
    const s = utf8.decode(buf.subarray(offset, offset + len));
    offset += len;
    return s;
  };
  try {
    switch (kind) {
      case 0: {
        if (buf.length < 4) return `kind 0 frame shorter than its 4-byte header (${buf.length} bytes)`;
        offset = 4;
        const joinRef = take(buf[1]!, "join_ref"), t = take(buf[2]!, "topic"), event = take(buf[3]!, "event");
        return { kind: 0, joinRef, topic: t, event, payload: buf.subarray(offset) };
      }
      case 1: {
        if (buf.length < 5) return `kind 1 frame shorter than its 5-byte header (${buf.length} bytes)`;
        offset = 5;
        const joinRef = take(buf[1]!, "join_ref"), ref = take(buf[2]!, "ref"), t = take(buf[3]!, "topic"), status = take(buf[4]!, "status");
        return { kind: 1, joinRef, ref, topic: t, status, payload: buf.subarray(offset) };
      }
      case 2: {
        if (buf.length < 3) return `kind 2 frame shorter than its 3-byte header (${buf.length} bytes)`;
        offset = 3;
        const t = take(buf[1]!, "topic"), event = take(buf[2]!, "event");
        return { kind: 2, topic: t, event, payload: buf.subarray(offset) };
      }
      default:
        return `unknown binary kind ${String(kind)}`;
    }
  } catch (e) {
    return `malformed kind ${String(kind)} frame: ${(e as Error).message}`;
  }
}

// ---------------------------------------------------------------------------------------------
// frame log

export type V2 = [string | null, string | null, string, string, unknown];

export interface WireEntry {
  seq: number;
  at: number;
  /** which websocket of this log (0, 1, …: reconnects get new numbers) */
  conn: number;
  dir: "in" | "out" | "event";
  text?: string;
  json?: unknown;
  bin?: Buffer;
  binMsg?: BinaryMessage | string;
  /** for dir "event" ("request" / "response": one long-poll HTTP exchange) */
  what?: "construct" | "open" | "close" | "error" | "request" | "response";
  url?: string;
  /** long-poll request/response: the HTTP method */
  method?: string;
  /** long-poll request: the headers the client set */
  headers?: Record<string, string>;
  /** long-poll request: the body (POST) */
  body?: string;
  /** long-poll response: the parsed JSON body (null when unparseable or failed) */
  response?: unknown;
  /** for "construct": the subprotocols offered */
  protocols?: string[];
  code?: number;
  reason?: string;
}

function short(v: unknown, max = 240): string {
  let s: string;
  try { s = typeof v === "string" ? v : JSON.stringify(v); } catch { s = String(v); }
  if (s === undefined) s = String(v);
  return s.length > max ? `${s.slice(0, max)}…(${s.length} chars)` : s;
}

export function describeEntry(e: WireEntry): string {
  const head = `#${e.seq} +${e.at}ms c${e.conn} ${e.dir.padEnd(5)}`;
  if (e.what === "request") return `${head} request ${e.method} ${short(e.url, 160)}${e.body !== undefined ? ` body=${short(e.body, 160)}` : ""}`;
  if (e.what === "response") return `${head} response ${e.method} ${e.reason ?? short(e.response, 200)}`;
  if (e.dir === "event") {
    return `${head} ${e.what}${e.url ? ` ${e.url}` : ""}${e.code !== undefined ? ` code=${e.code}` : ""}${e.reason ? ` reason=${short(e.reason, 80)}` : ""}`;
  }
  if (e.bin) {
    const m = e.binMsg;
    if (m === undefined || typeof m === "string") return `${head} <binary ${e.bin.length} bytes: ${m ?? ""} hex=${e.bin.subarray(0, 64).toString("hex")}>`;
    const fields = m.kind === 0 ? `jr=${short(m.joinRef, 40)} topic=${short(m.topic, 60)} event=${m.event}`
      : m.kind === 1 ? `jr=${short(m.joinRef, 40)} ref=${m.ref} topic=${short(m.topic, 60)} status=${m.status}`
      : `topic=${short(m.topic, 60)} event=${m.event}`;
    return `${head} <binary kind ${m.kind} ${fields} payload=${m.payload.subarray(0, 32).toString("hex")}>`;
  }
  return `${head} ${short(e.text)}`;
}

export interface Match {
  dir?: "in" | "out";
  conn?: number;
  joinRef?: string | null;
  ref?: string | null;
  topic?: string;
  event?: string;
  /** only V2 arrays (default true unless `v1` or `binary`) */
  v1?: boolean;
}

/** The entry as a V2 array, if it is one. */
export function asV2(e: WireEntry): V2 | undefined {
  const j = e.json;
  if (Array.isArray(j) && j.length === 5 && typeof j[2] === "string" && typeof j[3] === "string") return j as V2;
  return undefined;
}

export function matches(e: WireEntry, m: Match): boolean {
  if (e.dir === "event") return false;
  if (m.dir && e.dir !== m.dir) return false;
  if (m.conn !== undefined && e.conn !== m.conn) return false;
  if (m.v1) {
    const j = e.json as Record<string, unknown> | undefined;
    if (!j || typeof j !== "object" || Array.isArray(j)) return false;
    if (m.topic !== undefined && j.topic !== m.topic) return false;
    if (m.event !== undefined && j.event !== m.event) return false;
    if (m.ref !== undefined && j.ref !== m.ref) return false;
    return true;
  }
  const v = asV2(e);
  if (!v) return false;
  if (m.joinRef !== undefined && v[0] !== m.joinRef) return false;
  if (m.ref !== undefined && v[1] !== m.ref) return false;
  if (m.topic !== undefined && v[2] !== m.topic) return false;
  if (m.event !== undefined && v[3] !== m.event) return false;
  return true;
}

type Pred = (e: WireEntry) => boolean;

export class WireLog {
  readonly entries: WireEntry[] = [];
  private readonly t0 = Date.now();
  private seq = 0;
  private waiters = new Set<() => void>();

  add(e: Omit<WireEntry, "seq" | "at">): WireEntry {
    const entry: WireEntry = { ...e, seq: this.seq++, at: Date.now() - this.t0 };
    if (entry.text !== undefined) {
      try { entry.json = JSON.parse(entry.text); } catch { /* not json */ }
    }
    if (entry.bin && entry.dir === "in") entry.binMsg = decodeServerBinary(entry.bin);
    this.entries.push(entry);
    for (const w of [...this.waiters]) w();
    return entry;
  }

  /** Absolute timestamp (ms since epoch) of an entry. */
  time(e: WireEntry): number { return this.t0 + e.at; }

  dump(last = 40): string {
    const list = this.entries.slice(-last).map(describeEntry);
    const skipped = this.entries.length - list.length;
    return `frames so far (${this.entries.length}${skipped > 0 ? `, showing last ${list.length}` : ""}):\n  ${list.join("\n  ") || "(none)"}`;
  }

  find(pred: Pred | Match, fromSeq = 0): WireEntry | undefined {
    const p = typeof pred === "function" ? pred : (e: WireEntry) => matches(e, pred);
    return this.entries.find((e) => e.seq >= fromSeq && p(e));
  }

  all(pred: Pred | Match, fromSeq = 0): WireEntry[] {
    const p = typeof pred === "function" ? pred : (e: WireEntry) => matches(e, pred);
    return this.entries.filter((e) => e.seq >= fromSeq && p(e));
  }

  get nextSeq(): number { return this.seq; }

  /** Waits for the first entry (with seq ≥ fromSeq) matching `pred`. */
  wait(pred: Pred | Match, desc: string, ms = 3000, fromSeq = 0): Promise<WireEntry> {
    const p = typeof pred === "function" ? pred : (e: WireEntry) => matches(e, pred);
    const found = this.entries.find((e) => e.seq >= fromSeq && p(e));
    if (found) return Promise.resolve(found);
    return new Promise((resolveP, reject) => {
      const check = () => {
        const f = this.entries.find((e) => e.seq >= fromSeq && p(e));
        if (f) { cleanup(); resolveP(f); }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`timed out after ${ms} ms waiting for ${desc}\n${this.dump()}`));
      }, ms);
      const cleanup = () => { clearTimeout(timer); this.waiters.delete(check); };
      this.waiters.add(check);
    });
  }

  /** Waits `ms` and fails if any entry (seq ≥ fromSeq) matches. */
  async expectNone(pred: Pred | Match, desc: string, ms: number, fromSeq = 0): Promise<void> {
    await delay(ms);
    const hit = this.find(pred, fromSeq);
    if (hit) throw new Error(`expected no ${desc} within ${ms} ms, got ${describeEntry(hit)}\n${this.dump()}`);
  }
}

// ---------------------------------------------------------------------------------------------
// raw client

export interface RawOptions {
  /** vsn query param; null → omitted (V1). Default "2.0.0". */
  vsn?: string | null;
  params?: Record<string, string>;
  headers?: Record<string, string>;
}

export function wsUrl(server: ServerInfo, opts: RawOptions = {}): string {
  const q = new URLSearchParams(opts.params ?? {});
  const vsn = opts.vsn === undefined ? "2.0.0" : opts.vsn;
  if (vsn !== null) q.set("vsn", vsn);
  const qs = q.toString();
  return qs ? `${server.websocket}?${qs}` : server.websocket;
}

/** Performs a websocket handshake and returns the HTTP status (101 on upgrade); closes right away. */
export function handshakeStatus(server: ServerInfo, opts: RawOptions = {}, ms = 3000): Promise<number> {
  return handshake(server, opts, ms).then((r) => r.status);
}

/** Like handshakeStatus, optionally offering subprotocols; also returns the selected subprotocol. */
export function handshake(server: ServerInfo, opts: RawOptions & { protocols?: string[] } = {}, ms = 3000): Promise<{ status: number; protocol: string | null }> {
  const url = wsUrl(server, opts);
  return within(new Promise<{ status: number; protocol: string | null }>((resolveS, reject) => {
    const ws = new WebSocket(url, opts.protocols ?? [], { headers: opts.headers ?? {} });
    ws.on("upgrade", (res) => {
      const p = res.headers["sec-websocket-protocol"];
      resolveS({ status: 101, protocol: typeof p === "string" ? p : null });
    });
    ws.on("open", () => ws.close(1000));
    ws.on("unexpected-response", (_req, res) => {
      resolveS({ status: res.statusCode ?? -1, protocol: null });
      res.resume();
      ws.terminate();
    });
    ws.on("error", (err) => reject(new Error(`handshake to ${url} failed without an HTTP response: ${err.message}`)));
  }), ms, `handshake response from ${url}`);
}

export interface CloseInfo { code: number; reason: string; at: number }

export class RawClient {
  readonly log = new WireLog();
  readonly closed: Promise<CloseInfo>;
  closeInfo: CloseInfo | null = null;
  private refCounter = 0;

  private constructor(readonly ws: WebSocket, readonly url: string) {
    this.closed = new Promise((r) => {
      ws.on("close", (code, reason) => {
        this.closeInfo = { code, reason: reason.toString(), at: Date.now() };
        this.log.add({ conn: 0, dir: "event", what: "close", code, reason: reason.toString() });
        r(this.closeInfo);
      });
    });
    ws.on("message", (data, isBinary) => {
      const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as Buffer);
      if (isBinary) this.log.add({ conn: 0, dir: "in", bin: buf });
      else this.log.add({ conn: 0, dir: "in", text: buf.toString("utf8") });
    });
    ws.on("error", (err) => { this.log.add({ conn: 0, dir: "event", what: "error", reason: err.message }); });
  }

  static async connect(server: ServerInfo, opts: RawOptions = {}): Promise<RawClient> {
    const url = wsUrl(server, opts);
    const ws = new WebSocket(url, { headers: opts.headers ?? {} });
    const client = new RawClient(ws, url);
    onCleanup(() => client.terminate());
    await within(new Promise<void>((resolveO, reject) => {
      ws.once("open", () => resolveO());
      ws.once("unexpected-response", (_req, res) => {
        res.resume();
        reject(new Error(`handshake to ${url} refused: HTTP ${res.statusCode}`));
      });
      ws.once("error", (err) => reject(new Error(`connect to ${url} failed: ${err.message}${unexpectedExit ? `\n${unexpectedExit}` : ""}`)));
    }), 3000, `websocket open ${url}`);
    return client;
  }

  get isOpen(): boolean { return this.ws.readyState === WebSocket.OPEN; }

  nextRef(): string { this.refCounter += 1; return String(this.refCounter); }

  sendText(text: string): void {
    this.log.add({ conn: 0, dir: "out", text });
    this.ws.send(text);
  }

  sendJson(value: unknown): void { this.sendText(JSON.stringify(value)); }

  sendBinary(buf: Buffer): void {
    this.log.add({ conn: 0, dir: "out", bin: buf });
    this.ws.send(buf, { binary: true });
  }

  /** Sends a V2 frame; returns its ref. */
  push(joinRef: string | null, topicName: string, event: string, payload: unknown, ref: string | null = this.nextRef()): string | null {
    this.sendJson([joinRef, ref, topicName, event, payload]);
    return ref;
  }

  /** Waits for the phx_reply with this ref on this topic. */
  reply(topicName: string, ref: string | null, ms = 3000, fromSeq = 0): Promise<V2> {
    return this.log.wait({ dir: "in", topic: topicName, event: "phx_reply", ref }, `phx_reply ref=${ref} on ${topicName}`, ms, fromSeq)
      .then((e) => asV2(e)!);
  }

  /** V2 request/response: push and wait for its reply. */
  async call(joinRef: string | null, topicName: string, event: string, payload: unknown, ms = 3000): Promise<V2> {
    const ref = this.nextRef();
    const from = this.log.nextSeq;
    this.push(joinRef, topicName, event, payload, ref);
    return this.reply(topicName, ref, ms, from);
  }

  /** Joins with join_ref = ref (as phoenix.js does) unless given; returns the reply frame. */
  async join(topicName: string, payload: unknown = {}, joinRef?: string): Promise<{ joinRef: string; reply: V2 }> {
    const ref = this.nextRef();
    const jr = joinRef ?? ref;
    const from = this.log.nextSeq;
    this.push(jr, topicName, "phx_join", payload, ref);
    const reply = await this.reply(topicName, ref, 3000, from);
    return { joinRef: jr, reply };
  }

  /** Joins and asserts an ok reply. */
  async joinOk(topicName: string, payload: unknown = {}, joinRef?: string): Promise<string> {
    const { joinRef: jr, reply } = await this.join(topicName, payload, joinRef);
    const p = reply[4] as { status?: string };
    if (p?.status !== "ok") throw new Error(`join ${topicName} expected ok, got ${short(reply)}\n${this.log.dump()}`);
    return jr;
  }

  /** Heartbeat round trip; returns the reply frame. */
  heartbeat(ms = 2000): Promise<V2> {
    const ref = this.nextRef();
    const from = this.log.nextSeq;
    this.push(null, "phoenix", "heartbeat", {}, ref);
    return this.reply("phoenix", ref, ms, from);
  }

  waitClose(ms = 3000): Promise<CloseInfo> {
    return within(this.closed, ms, "websocket close", () => this.log.dump());
  }

  close(): void { if (this.ws.readyState === WebSocket.OPEN) this.ws.close(1000); }

  terminate(): void { if (this.ws.readyState !== WebSocket.CLOSED) this.ws.terminate(); }
}

// ---------------------------------------------------------------------------------------------
// the clients over a recording ws transport or LongPoll

/** A `ws` WebSocket subclass that records everything into `log` (one conn number per instance). */
export function recordingTransport(log: WireLog): new (address: string, protocols?: string | string[]) => WebSocket {
  let count = 0;
  class RecordingWebSocket extends WebSocket {
    readonly connIndex: number;
    constructor(address: string, protocols?: string | string[]) {
      super(address, protocols);
      const conn = count++;
      this.connIndex = conn;
      log.add({ conn, dir: "event", what: "construct", url: address,
        ...(protocols === undefined ? {} : { protocols: Array.isArray(protocols) ? protocols : [protocols] }) });
      this.on("open", () => log.add({ conn, dir: "event", what: "open" }));
      this.on("close", (code: number, reason: Buffer) => log.add({ conn, dir: "event", what: "close", code, reason: reason.toString() }));
      this.on("error", (err: Error) => log.add({ conn, dir: "event", what: "error", reason: err.message }));
      // (no "unexpected-response" listener: ws then reports a refused handshake as an error
      // "Unexpected server response: 403" followed by close, which is what the client sees)
      this.on("message", (data: unknown, isBinary: boolean) => {
        const buf = data instanceof ArrayBuffer ? Buffer.from(data)
          : Array.isArray(data) ? Buffer.concat(data as Buffer[]) : Buffer.from(data as Buffer);
        if (isBinary) log.add({ conn, dir: "in", bin: Buffer.from(buf) });
        else log.add({ conn, dir: "in", text: buf.toString("utf8") });
      });
    }
    override send(data: any, optionsOrCb?: any, cb?: any): void {
      if (typeof data === "string") log.add({ conn: this.connIndex, dir: "out", text: data });
      else log.add({ conn: this.connIndex, dir: "out", bin: Buffer.from(data instanceof ArrayBuffer ? new Uint8Array(data) : data) });
      (super.send as (...args: unknown[]) => void)(data, optionsOrCb, cb);
    }
  }
  return RecordingWebSocket;
}

/** Lets a test hold a client LongPoll's polls (no GET is made while held). */
export class PollGate {
  private held = false;
  private pending: (() => void) | null = null;

  /** From now on, the next poll of the socket's LongPoll waits for release(). */
  hold(): void { this.held = true; }

  /** Lets a held poll go, and later ones too. */
  release(): void {
    this.held = false;
    const p = this.pending;
    this.pending = null;
    p?.();
  }

  /** True when a poll is waiting (so no GET is in flight). */
  get waiting(): boolean { return this.pending !== null; }

  /** @internal called by the recording LongPoll instead of polling */
  intercept(poll: () => void): boolean {
    if (!this.held) return false;
    this.pending = poll;
    return true;
  }
}

type Handler = (arg: any) => void;

/**
 * A subclass of the client's own `LongPoll` (phoenix.js's or @cinder/client's: both expose
 * `poll`, `ajax`, `send`, `endpointURL`, `pollEndpoint` and `token`) that records into `log` (one
 * conn number per instance): every frame the client sends as an "out" frame when it hands it to
 * the transport (as the ws transport does; LongPoll POSTs it a tick later, batched), the HTTP
 * exchanges as "request" (with the POST body) / "response" (the parsed JSON) events, every message
 * of a GET answer as an "in" frame (when the answer arrives, before the client dispatches it), and
 * open/error/close. `construct` carries the poll URL (http…/socket/longpoll?<params>&vsn=2.0.0).
 */
export function recordingLongPoll(log: WireLog, gate: PollGate = new PollGate(), Base: typeof phoenix.LongPoll = phoenix.LongPoll): typeof phoenix.LongPoll {
  let count = 0;
  class RecordingLongPoll extends Base {
    connIndex: number;
    constructor(endPoint: string, protocols?: string[]) {
      super(endPoint, protocols);
      const conn = count++;
      this.connIndex = conn;
      log.add({ conn, dir: "event", what: "construct", url: this.pollEndpoint,
        ...(protocols === undefined ? {} : { protocols: [...protocols] }) });
      // the socket assigns onopen/onerror/onclose after construction: record, then call its
      // handler (phoenix.js starts with no-op handlers, @cinder/client with null)
      const hook = (name: "onopen" | "onerror" | "onclose", record: Handler): void => {
        let handler = (this as unknown as Record<string, Handler | null>)[name] ?? null;
        const wrapped: Handler = (arg) => { record(arg); handler?.(arg); };
        Object.defineProperty(this, name, { configurable: true, enumerable: true, get: () => wrapped, set: (h: Handler | null) => { handler = h; } });
      };
      hook("onopen", () => log.add({ conn, dir: "event", what: "open" }));
      hook("onerror", (err) => log.add({ conn, dir: "event", what: "error", reason: String(err) }));
      hook("onclose", (ev: { code?: number; reason?: string } | undefined) => log.add({
        conn, dir: "event", what: "close", ...(ev?.code !== undefined ? { code: ev.code } : {}), reason: ev?.reason ?? "" }));
    }

    override poll(): void {
      if (gate.intercept(() => super.poll())) return;
      super.poll();
    }

    override send(body: string | ArrayBuffer): void {
      if (typeof body === "string") log.add({ conn: this.connIndex, dir: "out", text: body });
      else log.add({ conn: this.connIndex, dir: "out", bin: Buffer.from(new Uint8Array(body)) });
      super.send(body);
    }

    override ajax(method: string, headers: Record<string, string>, body: string | null, onCallerTimeout: () => void, callback: (response: any) => void): void {
      const conn = this.connIndex;
      log.add({ conn, dir: "event", what: "request", method, url: this.endpointURL(), headers: { ...headers },
        ...(body !== null ? { body } : {}) });
      super.ajax(method, headers, body, () => {
        log.add({ conn, dir: "event", what: "response", method, reason: "timeout" });
        onCallerTimeout();
      }, (response: any) => {
        log.add({ conn, dir: "event", what: "response", method, response });
        if (method === "GET" && response !== null && typeof response === "object" && response.status === 200 && Array.isArray(response.messages)) {
          for (const m of response.messages as unknown[]) log.add({ conn, dir: "in", text: typeof m === "string" ? m : JSON.stringify(m) });
        }
        callback(response);
      });
    }
  }
  return RecordingLongPoll;
}

export interface PhxOptions extends SocketOptions {
  /** the client: phoenix.js or @cinder/client (CLIENTS.phoenix / CLIENTS.cinder) */
  client: Client;
  /** connect right away (default true) */
  connect?: boolean;
  /** the transport: a recording `ws` WebSocket (default) or a recording subclass of the client's LongPoll */
  via?: Via;
}

export interface Phx {
  socket: phoenix.Socket;
  log: WireLog;
  via: Via;
  client: Client;
  /** holds/releases LongPoll polls (long-poll only) */
  polls: PollGate;
}

/**
 * A Socket of the given client (phoenix.js or @cinder/client) over a recording ws or LongPoll
 * transport, registered for cleanup after the test.
 */
export function phxSocket(server: ServerInfo, opts: PhxOptions): Phx {
  const log = new WireLog();
  const polls = new PollGate();
  const { client, connect = true, via = "websocket", ...rest } = opts;
  const transport = via === "longpoll" ? recordingLongPoll(log, polls, client.LongPoll) : recordingTransport(log);
  const socket = new client.Socket(server.socket, { transport, timeout: 3000, ...rest });
  onCleanup(() => new Promise<void>((r) => {
    const t = setTimeout(r, 500);
    socket.disconnect(() => { clearTimeout(t); r(); });
    polls.release();
  }));
  if (connect) socket.connect();
  return { socket, log, via, client, polls };
}

/** Connects (if needed) and waits until the socket is open. */
export async function connected(phx: Phx, ms = 3000): Promise<void> {
  await waitUntil(() => phx.socket.isConnected(), ms, `${phx.client.label} socket to be connected`,
    () => `${phx.log.dump()}${unexpectedExit ? `\n${unexpectedExit}` : ""}`);
}

export interface Outcome { status: string; response: any }

/** Resolves with the first of the given statuses to fire on a Push. */
export function outcome(push: Push, ms = 3000, statuses: string[] = ["ok", "error", "timeout", "queued"], detail?: () => string): Promise<Outcome> {
  return within(new Promise<Outcome>((r) => {
    for (const status of statuses) push.receive(status, (response) => r({ status, response }));
  }), ms, `a reply (${statuses.join("/")})`, detail);
}

/** Joins and asserts "ok"; returns the response. */
export async function joinOk(phx: Phx, channel: Channel, ms = 3000): Promise<any> {
  const o = await outcome(channel.join(), ms, undefined, () => phx.log.dump());
  if (o.status !== "ok") throw new Error(`join ${channel.topic} expected ok, got ${o.status} ${short(o.response)}\n${phx.log.dump()}`);
  return o.response;
}

/** Resolves with the payload of the next `event` on the channel. */
export function nextEvent(phx: Phx, channel: Channel, event: string, ms = 3000): Promise<any> {
  return within(new Promise<any>((r) => {
    const ref = channel.on(event, (payload) => { channel.off(event, ref); r(payload); });
  }), ms, `event "${event}" on ${channel.topic}`, () => phx.log.dump());
}

/** POST /broadcast; returns the HTTP status. */
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

/** Bytes as an exact ArrayBuffer (what phoenix.js needs to send binary; @cinder/client takes typed arrays too). */
export function arrayBuffer(bytes: number[] | Uint8Array): ArrayBuffer {
  const u = Uint8Array.from(bytes);
  return u.buffer.slice(u.byteOffset, u.byteOffset + u.byteLength) as ArrayBuffer;
}

// ---------------------------------------------------------------------------------------------
// raw long-poll (docs/protocol.md §4)

export interface LpResponse {
  /** the HTTP status */
  http: number;
  headers: Headers;
  text: string;
  /** the parsed body, or undefined when it is not JSON */
  json: any;
  /** ms from sending the request to the end of the answer */
  elapsed: number;
}

export interface LpRequest {
  method?: string;
  /** the raw query string (without "?"), sent as is (duplicates and a trailing "&" allowed) */
  query?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** give up after this long (default: window + 3 s) */
  ms?: number;
  signal?: AbortSignal;
}

/** One HTTP request to `<server>/socket/longpoll`. */
export async function lpFetch(server: ServerInfo, req: LpRequest = {}): Promise<LpResponse> {
  const url = `${server.longpoll}${req.query !== undefined ? `?${req.query}` : ""}`;
  const ms = req.ms ?? server.longpollWindowMs + 3000;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new Error(`timed out after ${ms} ms`)), ms);
  const onAbort = () => controller.abort(req.signal?.reason);
  req.signal?.addEventListener("abort", onAbort);
  const started = Date.now();
  try {
    const res = await fetch(url, {
      method: req.method ?? "GET",
      headers: req.headers ?? {},
      ...(req.body !== undefined ? { body: req.body } : {}),
      signal: controller.signal,
    });
    const text = await res.text();
    let json: any;
    try { json = JSON.parse(text); } catch { json = undefined; }
    return { http: res.status, headers: res.headers, text, json, elapsed: Date.now() - started };
  } catch (e) {
    if (controller.signal.aborted && !req.signal?.aborted) throw new Error(`${req.method ?? "GET"} ${url}: no answer within ${ms} ms`);
    throw e;
  } finally {
    clearTimeout(timer);
    req.signal?.removeEventListener("abort", onAbort);
  }
}

/**
 * A hand-written long-poll client: one session (token), ndjson POSTs, GETs whose messages are
 * recorded as "in" frames in `log` (so `log.wait` works as for RawClient), optional background
 * polling. Registered for cleanup (stops polling; the server reaps the session later).
 */
export class RawLongPoll {
  readonly log = new WireLog();
  private refCounter = 0;
  private polling = false;
  private aborter = new AbortController();
  /** the background poll loop, while running */
  private loop: Promise<void> | null = null;
  /** when the last GET was sent */
  lastGetAt = 0;

  private constructor(readonly server: ServerInfo, readonly params: string, public token: string, readonly first: LpResponse) {
    onCleanup(() => this.stop());
  }

  /** First GET (creates the session, answer in `first`); asserts `{"status":410,"token":T,"messages":[]}`. */
  static async open(server: ServerInfo, params: Record<string, string> = {}): Promise<RawLongPoll> {
    const q = new URLSearchParams(params).toString();
    const query = `${q ? `${q}&` : ""}vsn=2.0.0`;
    const r = await lpFetch(server, { query, headers: { accept: "application/json" } });
    if (r.http !== 200 || r.json?.status !== 410 || typeof r.json?.token !== "string") {
      throw new Error(`long-poll session not created: HTTP ${r.http} ${short(r.text)}`);
    }
    return new RawLongPoll(server, query, r.json.token as string, r);
  }

  /** The query for a request with the session token (as phoenix.js sends it: params, vsn, token). */
  query(token = this.token): string { return `${this.params}&token=${encodeURIComponent(token)}`; }

  nextRef(): string { this.refCounter += 1; return String(this.refCounter); }

  /** POSTs ndjson lines (recorded as "out"); returns the answer. */
  async post(lines: string[], opts: { contentType?: string; ms?: number } = {}): Promise<LpResponse> {
    for (const line of lines) this.log.add({ conn: 0, dir: "out", text: line });
    const r = await lpFetch(this.server, {
      method: "POST", query: this.query(), body: lines.join("\n"),
      headers: { "content-type": opts.contentType ?? "application/x-ndjson" },
      ...(opts.ms !== undefined ? { ms: opts.ms } : {}), signal: this.aborter.signal,
    });
    this.log.add({ conn: 0, dir: "event", what: "response", method: "POST", response: r.json ?? r.text });
    return r;
  }

  /** One GET with the token; its messages are recorded as "in" frames. */
  async get(opts: { ms?: number } = {}): Promise<LpResponse> {
    this.lastGetAt = Date.now();
    const r = await lpFetch(this.server, {
      query: this.query(), headers: { accept: "application/json" },
      ...(opts.ms !== undefined ? { ms: opts.ms } : {}), signal: this.aborter.signal,
    });
    this.log.add({ conn: 0, dir: "event", what: "response", method: "GET", response: r.json ?? r.text });
    if (r.json?.status === 200 && Array.isArray(r.json.messages)) {
      for (const m of r.json.messages as unknown[]) this.log.add({ conn: 0, dir: "in", text: typeof m === "string" ? m : JSON.stringify(m) });
    }
    return r;
  }

  /** Polls in the background until stop() or an answer other than 200/204. */
  startPolling(): void {
    if (this.polling) return;
    this.polling = true;
    this.loop = (async () => {
      while (this.polling) {
        let r: LpResponse;
        try { r = await this.get(); } catch (e) {
          if (this.polling) this.log.add({ conn: 0, dir: "event", what: "error", reason: (e as Error).message });
          break;
        }
        if (r.json?.status !== 200 && r.json?.status !== 204) {
          this.log.add({ conn: 0, dir: "event", what: "close", reason: `poll answered ${short(r.text)}` });
          break;
        }
      }
      this.polling = false;
    })();
  }

  /** Stops background polling, aborting a parked GET. */
  async stopPolling(): Promise<void> {
    if (!this.polling) return;
    this.polling = false;
    const loop = this.loop;
    this.abortInFlight();
    await loop;
  }

  private abortInFlight(): void {
    // aborts every request of this client in flight; later requests use a fresh controller
    this.aborter.abort(new Error("stopped"));
    this.aborter = new AbortController();
  }

  /** Stops everything (cleanup). */
  stop(): void {
    this.polling = false;
    this.abortInFlight();
  }

  /** POSTs one V2 frame; returns its ref and the POST answer. */
  async push(joinRef: string | null, topicName: string, event: string, payload: unknown, ref: string | null = this.nextRef()): Promise<{ ref: string | null; answer: LpResponse }> {
    const answer = await this.post([JSON.stringify([joinRef, ref, topicName, event, payload])]);
    return { ref, answer };
  }

  /** Waits (polling must be running, or a GET made) for the phx_reply with this ref. */
  reply(topicName: string, ref: string | null, ms = 3000, fromSeq = 0): Promise<V2> {
    return this.log.wait({ dir: "in", topic: topicName, event: "phx_reply", ref }, `phx_reply ref=${ref} on ${topicName}`, ms, fromSeq)
      .then((e) => asV2(e)!);
  }

  /** Push + wait for its reply (needs background polling). Asserts the POST answered 200. */
  async call(joinRef: string | null, topicName: string, event: string, payload: unknown, ms = 3000): Promise<V2> {
    const from = this.log.nextSeq;
    const { ref, answer } = await this.push(joinRef, topicName, event, payload);
    if (answer.json?.status !== 200) throw new Error(`POST ${event} answered ${answer.http} ${short(answer.text)}\n${this.log.dump()}`);
    return this.reply(topicName, ref, ms, from);
  }

  /** Joins (join_ref = ref) and asserts ok; needs background polling. Returns the join_ref. */
  async joinOk(topicName: string, payload: unknown = {}): Promise<string> {
    const ref = this.nextRef();
    const from = this.log.nextSeq;
    const answer = await this.post([JSON.stringify([ref, ref, topicName, "phx_join", payload])]);
    if (answer.json?.status !== 200) throw new Error(`POST phx_join answered ${answer.http} ${short(answer.text)}`);
    const reply = await this.reply(topicName, ref, 3000, from);
    if ((reply[4] as { status?: string })?.status !== "ok") throw new Error(`join ${topicName} expected ok, got ${short(reply)}\n${this.log.dump()}`);
    return ref;
  }
}

/** Asserts that a fresh long-poll session works: create, join, ping (POST 200, reply by GET). */
export async function assertLongPollHealthy(server: ServerInfo): Promise<void> {
  if (!serverAlive()) throw new Error(`server process died; output:\n${server.output()}`);
  const lp = await RawLongPoll.open(server);
  lp.startPolling();
  const t = topic("lp-health");
  const jr = await lp.joinOk(t);
  const r = await lp.call(jr, t, "ping", { alive: true });
  if (JSON.stringify(r[4]) !== JSON.stringify({ status: "ok", response: { alive: true } })) {
    throw new Error(`fresh long-poll session: unexpected ping reply ${short(r)}`);
  }
  await lp.stopPolling();
}

/** Asserts that a fresh connection to the server works (heartbeat + join + ping). */
export async function assertServerHealthy(server: ServerInfo): Promise<void> {
  if (!serverAlive()) throw new Error(`server process died; output:\n${server.output()}`);
  const c = await RawClient.connect(server);
  const hb = await c.heartbeat();
  if (JSON.stringify(hb[4]) !== JSON.stringify({ status: "ok", response: {} })) {
    throw new Error(`fresh connection: unexpected heartbeat reply ${short(hb)}`);
  }
  const t = topic("health");
  const jr = await c.joinOk(t);
  const r = await c.call(jr, t, "ping", { alive: true });
  if (JSON.stringify(r[4]) !== JSON.stringify({ status: "ok", response: { alive: true } })) {
    throw new Error(`fresh connection: unexpected ping reply ${short(r)}`);
  }
  c.close();
}

/** Bytes the binary wire tests send: zeros, high bytes, and bytes that look like JSON. */
export const BYTES = [0, 1, 2, 250, 255, 128, 10, 13, 0x7b, 0x22];

/** The decoded binary frame of a wire entry, asserting it is a binary frame and well formed. */
export function bin(e: WireEntry | undefined): BinaryMessage {
  assert.ok(e?.bin, "a binary frame");
  const m = e.binMsg;
  assert.ok(m !== undefined && typeof m !== "string", `well-formed binary frame: ${m} (hex ${e.bin.toString("hex")})`);
  return m;
}
