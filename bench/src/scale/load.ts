/**
 * One load process of the scale scenario (run.ts forks several: each holds at most ~16,667
 * connections under the 20,000-descriptor limit and spreads them over its own loopback source
 * addresses, load/source-addresses.ts, so no address runs out of ephemeral ports or slows binds). Over IPC (protocol.ts) it:
 *
 * - `connect`: opens its share of raw `ws` connections and joins each to the one topic, at most
 *   `concurrency` in flight and `rate` started a second; answers `connected` once every one
 *   joined, failed or timed out;
 * - keeps them alive: a Phoenix heartbeat per connection every `heartbeatMs`, spread over the
 *   period (Cinder, demo); a pong to each Engine.IO ping (Socket.IO);
 * - records, per broadcast sequence, how many connections received it and the first and last
 *   receive time, reading the payload's stamp without JSON.parse (`deliveries`);
 * - counts closes of joined connections (`status`).
 */
import { WebSocket } from "ws";
import { dialectOf, Kind, readStamp, socketIoDialect, type Dialect } from "../load/dialects.js";
import { selfCpuMs } from "../machine.js";
import { addressRange, sourceAddress } from "../load/source-addresses.js";
import type { ConnectPlan, DeliveryRecord, LoadCommand, LoadReply, LoadStatus } from "./protocol.js";

const PENDING = 0;
const JOINED = 1;
const GONE = 2;

interface Conn {
  index: number;
  ws: WebSocket | null;
  state: number;
  startedAt: number;
  /** When its next heartbeat is due (performance.now()). */
  nextBeat: number;
}

const conns: Conn[] = [];
const records = new Map<number, DeliveryRecord>();
let plan: ConnectPlan | undefined;
let inflight = 0;
let joined = 0;
let failed = 0;
let closesAfterJoin = 0;
/** Close codes (and reasons) of joined connections that closed. */
const closeCodes: Record<string, number> = {};
let frames = 0;
let heartbeats = 0;
let maxStallMs = 0;
let firstStartAt = 0;
let lastJoinAt = 0;
let joinMs: Float64Array = new Float64Array(0);
const errors = new Set<string>();
const send = (reply: LoadReply): void => { process.send?.(reply); };
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const S_KEY = Buffer.from('"s":');
const NEW_MSG = Buffer.from('"new_msg"');
const DEMO_BODY = Buffer.from('"body":"t:');
const DEMO_SEQ = Buffer.from(" s:");
const HEARTBEAT = '[null,"hb","phoenix","heartbeat",{}]';

/** How a server's frames read: the demo speaks Cinder's (Phoenix V2 JSON). */
function dialectFor(server: ConnectPlan["server"]): Dialect {
  return dialectOf(server === "demo" ? "cinder" : server);
}

/** The unsigned integer written at `from` in `data` (digits only), or NaN. */
function digitsAt(data: Buffer, from: number): number {
  let value = 0;
  let any = false;
  for (let i = from; i < data.length; i++) {
    const c = data[i]!;
    if (c < 0x30 || c > 0x39) break;
    value = value * 10 + (c - 0x30);
    any = true;
  }
  return any ? value : NaN;
}

/** The unsigned integer after the first `key` in `data`, or NaN. */
function numberAfter(data: Buffer, key: Buffer, from = 0): number {
  const at = data.indexOf(key, from);
  return at < 0 ? NaN : digitsAt(data, at + key.length);
}

/** A delivery's (send time, sequence), or undefined when the frame is not a scenario broadcast. */
function delivery(server: ConnectPlan["server"], data: Buffer): [number, number] | undefined {
  if (server === "demo") {
    if (data.indexOf(NEW_MSG) < 0) return undefined;
    const at = data.indexOf(DEMO_BODY);
    if (at < 0) return undefined;
    const t = digitsAt(data, at + DEMO_BODY.length);
    const s = numberAfter(data, DEMO_SEQ, at);
    return Number.isNaN(t) || Number.isNaN(s) ? undefined : [t, s];
  }
  if (dialectFor(server).classify(data) !== Kind.Delivery) return undefined;
  const t = readStamp(data);
  const s = numberAfter(data, S_KEY);
  return Number.isNaN(t) || Number.isNaN(s) ? undefined : [t, s];
}

function record(t: number, s: number): void {
  const now = Date.now();
  const found = records.get(s);
  if (found === undefined) records.set(s, { seq: s, sentAt: t, count: 1, first: now, last: now });
  else {
    found.count++;
    found.last = now;
  }
}

function markJoined(conn: Conn): void {
  if (conn.state !== PENDING) return;
  conn.state = JOINED;
  inflight--;
  const now = Date.now();
  joinMs[joined] = performance.now() - conn.startedAt;
  conn.nextBeat = performance.now() + plan!.heartbeatMs;
  joined++;
  lastJoinAt = now;
}

function fail(conn: Conn, message: string | undefined): void {
  if (message !== undefined && errors.size < 5) errors.add(message);
  if (conn.state === PENDING) {
    inflight--;
    failed++;
  } else if (conn.state === JOINED) {
    closesAfterJoin++;
  }
  conn.state = GONE;
}

function onFrame(conn: Conn, data: Buffer): void {
  frames++;
  const p = plan!;
  if (conn.state === JOINED) {
    if (p.server === "socketio" && data.length === 1 && data[0] === 0x32 /* 2: ping */) {
      conn.ws?.send("3");
      return;
    }
    const found = delivery(p.server, data);
    if (found !== undefined) record(found[0], found[1]);
    return;
  }
  if (conn.state !== PENDING) return;
  if (p.server === "socketio") {
    const kind = socketIoDialect.classify(data);
    if (kind === Kind.Handshake) conn.ws!.send(`420["sub",${JSON.stringify(p.topic)}]`);
    else if (kind === Kind.Ack) markJoined(conn);
    else if (kind === Kind.Refused) refuse(conn, data);
    else if (kind === Kind.Ping) conn.ws!.send("3");
    return;
  }
  const kind = dialectFor(p.server).classify(data);
  if (kind === Kind.Ack) markJoined(conn);
  else if (kind === Kind.Refused) refuse(conn, data);
}

function refuse(conn: Conn, data: Buffer): void {
  const ws = conn.ws;
  fail(conn, `join refused: ${data.toString("utf8").slice(0, 200)}`);
  ws?.terminate();
}

function open(conn: Conn): void {
  const p = plan!;
  const url = p.server === "socketio"
    ? `${p.base}/socket.io/?EIO=4&transport=websocket`
    : p.server === "demo"
      ? `${p.base}/socket/websocket?vsn=2.0.0&token=${encodeURIComponent(p.tokens![conn.index - p.first]!)}`
      : p.server === "ws"
        ? `${p.base}/?user=u${conn.index}`
        : `${p.base}/socket/websocket?vsn=2.0.0&user=u${conn.index}`;
  conn.startedAt = performance.now();
  inflight++;
  const ws = new WebSocket(url, { localAddress: sourceAddress(p.process, conn.index), perMessageDeflate: false, handshakeTimeout: p.joinTimeoutMs });
  conn.ws = ws;
  ws.on("open", () => {
    if (p.server === "socketio") ws.send("40");
    else if (p.server === "ws") ws.send(`{"op":"sub","topic":${JSON.stringify(p.topic)}}`);
    else ws.send(`["1","1",${JSON.stringify(p.topic)},"phx_join",{}]`);
  });
  ws.on("message", (data: Buffer, isBinary: boolean) => { if (!isBinary) onFrame(conn, data); });
  ws.on("error", (error) => { if (errors.size < 5) errors.add(error.message); });
  ws.on("close", (code, reason) => {
    if (conn.state === GONE) return;
    if (conn.state === JOINED) {
      const key = `${code}${reason.length > 0 ? ` ${reason.toString("utf8").slice(0, 60)}` : ""}`;
      closeCodes[key] = (closeCodes[key] ?? 0) + 1;
    }
    fail(conn, conn.state === PENDING ? `closed before joining (code ${code})` : undefined);
    conn.ws = null;
  });
}

function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}

function status(): LoadStatus {
  const sorted = joinMs.slice(0, joined).sort();
  return {
    joined, open: conns.filter((c) => c.state === JOINED).length, failed, closesAfterJoin, firstStartAt, lastJoinAt,
    joinMs: { p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), max: sorted.length === 0 ? 0 : sorted[sorted.length - 1]! },
    closeCodes: { ...closeCodes }, frames, heartbeats, maxStallMs, cpuMs: selfCpuMs(), rssBytes: process.memoryUsage.rss(), errors: [...errors],
  };
}

/**
 * Heartbeats by the clock: every second, each joined connection whose next beat is due sends one
 * and is due again a period later (joins are spread over time, so the beats are too). A stalled
 * event loop sends the overdue ones at once instead of stretching every period; the longest
 * stall (a timer firing late) is reported, since a load process stalled past the server's idle
 * timeout would see its connections closed for its own slowness.
 */
function startHeartbeats(p: ConnectPlan): void {
  let last = performance.now();
  setInterval(() => {
    const now = performance.now();
    maxStallMs = Math.max(maxStallMs, now - last - 1000);
    last = now;
    if (p.server === "socketio") return;
    for (const conn of conns) {
      if (conn.state !== JOINED || conn.nextBeat > now || conn.ws === null || conn.ws.readyState !== WebSocket.OPEN) continue;
      conn.ws.send(HEARTBEAT);
      conn.nextBeat = now + p.heartbeatMs;
      heartbeats++;
    }
  }, 1000);
}

/** Closes connections still not joined after the join timeout. */
function startSweeper(p: ConnectPlan): NodeJS.Timeout {
  return setInterval(() => {
    const limit = performance.now() - p.joinTimeoutMs;
    for (const conn of conns) {
      if (conn.state !== PENDING || conn.startedAt === 0 || conn.startedAt > limit) continue;
      const ws = conn.ws;
      fail(conn, `not joined within ${p.joinTimeoutMs} ms`);
      ws?.terminate();
    }
  }, 1000);
}

async function connectAll(p: ConnectPlan): Promise<void> {
  plan = p;
  joinMs = new Float64Array(p.count);
  for (let i = 0; i < p.count; i++) conns.push({ index: p.first + i, ws: null, state: PENDING, startedAt: 0, nextBeat: Infinity });
  startHeartbeats(p);
  const sweeper = startSweeper(p);
  const progress = setInterval(() => console.log(`  load ${addressRange(p.process)}: ${joined}/${p.count} joined, ${failed} failed`), 15_000);
  firstStartAt = Date.now();
  const started = performance.now();
  for (let i = 0; i < p.count; i++) {
    for (;;) {
      const allowed = p.rate > 0 ? Math.floor(((performance.now() - started) / 1000) * p.rate) + 1 : Infinity;
      if (inflight < p.concurrency && i < allowed) break;
      await sleep(2);
    }
    open(conns[i]!);
  }
  while (inflight > 0) await sleep(10);
  clearInterval(progress);
  clearInterval(sweeper);
  send({ op: "connected", status: status() });
}

process.on("message", (command: LoadCommand) => {
  switch (command.op) {
    case "connect":
      void connectAll(command.plan);
      break;
    case "status":
      send({ op: "status", status: status() });
      break;
    case "deliveries":
      send({ op: "deliveries", records: [...records.values()] });
      break;
    case "exit":
      for (const conn of conns) {
        conn.state = GONE;
        conn.ws?.terminate();
      }
      process.exit(0);
  }
});
process.on("disconnect", () => process.exit(0));
