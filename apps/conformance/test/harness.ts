// Shared harness for the Phoenix-protocol conformance suite.
//
// - Finds the server: env CINDER_CONFORMANCE_URL (http base URL, socket at <url>/socket), or spawns
//   the compiled conformance server (dist/src/server.js, next to this file's dist/test) with PORT=0
//   and waits for "listening on http://…" on its stdout.
// - RawClient: a hand-written `ws` client that sends exact V1/V2/binary frames and records every
//   frame it receives.
// - phxSocket(): the official `phoenix` client over a recording `ws` transport, so tests can look
//   at the exact wire frames the client sent and received.
// Every wait is bounded; failures print the frames seen so far.

import { spawn, type ChildProcess } from "node:child_process";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { existsSync } from "node:fs";
import { request } from "node:http";
import { after, afterEach, before } from "node:test";
import WebSocket from "ws";
import { Socket, type Channel, type Push, type SocketOptions } from "phoenix";

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
// server

export interface ServerInfo {
  /** http base, e.g. http://127.0.0.1:4001 */
  readonly http: string;
  /** ws mount URL for the phoenix client, e.g. ws://127.0.0.1:4001/socket */
  readonly socket: string;
  /** the websocket transport URL, e.g. ws://127.0.0.1:4001/socket/websocket */
  readonly websocket: string;
  /** the server's output so far (spawned server only) */
  output(): string;
}

const here = dirname(fileURLToPath(import.meta.url));
/** dist/test/harness.js → dist/src/server.js */
export const serverScript = resolve(here, "../src/server.js");

function infoFor(base: string, output: () => string): ServerInfo {
  const http = base.replace(/\/+$/, "");
  const ws = http.replace(/^http/, "ws");
  return { http, socket: `${ws}/socket`, websocket: `${ws}/socket/websocket`, output };
}

async function spawnServer(): Promise<{ info: ServerInfo; child: ChildProcess }> {
  if (!existsSync(serverScript)) {
    throw new Error(`conformance server not built: ${serverScript} does not exist (run \`npx tsc -b\`), ` +
      `or set CINDER_CONFORMANCE_URL to a running server`);
  }
  const child = spawn(process.execPath, [serverScript], {
    env: { ...process.env, PORT: "0" },
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
  return { info: infoFor(url, output), child };
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

/**
 * Registers before/after hooks that start (or locate) the server for this test file, and an
 * afterEach hook that closes every client the test created. Returns the server info (valid once
 * the before hook ran).
 */
export function useServer(): ServerInfo {
  before(async () => {
    const external = process.env.CINDER_CONFORMANCE_URL;
    if (external) {
      current = { info: infoFor(external, () => "(external server: output not captured)"), child: null };
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
  const get = (): ServerInfo => {
    if (!current) throw new Error("server not started (useServer's before hook has not run)");
    return current.info;
  };
  return {
    get http() { return get().http; },
    get socket() { return get().socket; },
    get websocket() { return get().websocket; },
    output: () => get().output(),
  };
}

/** Registers something to be closed after the current test. */
export function onCleanup(fn: () => void | Promise<void>): void { cleanups.add(fn); }

// ---------------------------------------------------------------------------------------------
// binary frames (§2.3)

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
  /** for dir "event" */
  what?: "construct" | "open" | "close" | "error";
  url?: string;
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
// phoenix.js over a recording ws transport

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
      // "Unexpected server response: 403" followed by close, which is what phoenix.js sees)
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

export interface PhxOptions extends SocketOptions {
  /** connect right away (default true) */
  connect?: boolean;
}

export interface Phx {
  socket: Socket;
  log: WireLog;
}

/** A phoenix.js Socket (recording ws transport), registered for cleanup after the test. */
export function phxSocket(server: ServerInfo, opts: PhxOptions = {}): Phx {
  const log = new WireLog();
  const { connect = true, ...rest } = opts;
  const socket = new Socket(server.socket, { transport: recordingTransport(log), timeout: 3000, ...rest });
  onCleanup(() => new Promise<void>((r) => {
    const t = setTimeout(r, 500);
    socket.disconnect(() => { clearTimeout(t); r(); });
  }));
  if (connect) socket.connect();
  return { socket, log };
}

/** Connects (if needed) and waits until the socket is open. */
export async function connected(phx: Phx, ms = 3000): Promise<void> {
  await waitUntil(() => phx.socket.isConnected(), ms, "phoenix socket to be connected",
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

/** Bytes as an exact ArrayBuffer (what phoenix.js needs to send binary). */
export function arrayBuffer(bytes: number[] | Uint8Array): ArrayBuffer {
  const u = Uint8Array.from(bytes);
  return u.buffer.slice(u.byteOffset, u.byteOffset + u.byteLength) as ArrayBuffer;
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
