/**
 * One load process of the big-room bench (bench/src/bigroom.ts forks several, each with its own
 * loopback source addresses (source-addresses.ts), so no process passes the 20,000-fd limit and
 * no address runs out of ports or slows its binds). It holds members of one topic and answers the runner over IPC:
 *
 * - `connect` members `[first, first + count)` (user `u<index>`), at most `batch` in flight;
 * - `snapshot`: frames and bytes received so far, by kind, and this process's CPU;
 * - `churn` at `perSecond` reconnects a second (each a leave and a join) for `seconds`, then
 *   waits for every connection to be joined again;
 * - `drop` closes `count` members at once (no close handshake);
 * - `target`: answers `settled` with the time every joined member's count first equalled it.
 *
 * Dialects: Cinder (Phoenix V2 JSON on `presence:big:*`, the count is `presence_count`'s
 * `connections`; heartbeats every 30 s, as phoenix.js) and the naive ws presence (the count is the number of keys
 * from `state`, `join` and `leave` frames; one key per member, so keys = connections).
 */
import { WebSocket } from "ws";
import { selfCpuMs } from "../machine.js";
import { addressRange, sourceAddress } from "./source-addresses.js";

/** Runner → load process. */
export type LoadCommand =
  | { op: "connect"; server: "cinder" | "ws"; url: string; topic: string; first: number; count: number; process: number; batch: number }
  | { op: "snapshot" }
  | { op: "churn"; perSecond: number; seconds: number }
  | { op: "drop"; count: number }
  | { op: "target"; connections: number }
  | { op: "exit" };

/** Load process → runner. */
export type LoadReply =
  | { op: "connected"; joined: number; failed: number; closes: number; errors: string[] }
  | { op: "snapshot"; counters: LoadCounters; cpuMs: number; joined: number }
  /** `behind`: connections not joined when the last reconnect was issued; `rejoinedMs`: null if some were still not joined 60 s later. */
  | { op: "churned"; reconnects: number; behind: number; issuedMs: number; rejoinedMs: number | null }
  | { op: "dropped"; at: number }
  | { op: "settled"; at: number; members: number };

/** Frames received, summed over this process's members. */
export interface LoadCounters {
  frames: number;
  bytes: number;
  countFrames: number;
  diffFrames: number;
  stateFrames: number;
  otherFrames: number;
  closes: number;
  errors: number;
  /** Reconnects after an unexpected close (after the joins), as a client retries. */
  retries: number;
}

interface Member {
  index: number;
  ws: WebSocket | null;
  joined: boolean;
  generation: number;
  /** The connections count this member's view says. */
  count: number;
}

const counters: LoadCounters = { frames: 0, bytes: 0, countFrames: 0, diffFrames: 0, stateFrames: 0, otherFrames: 0, closes: 0, errors: 0, retries: 0 };
const members: Member[] = [];
let setup: Extract<LoadCommand, { op: "connect" }> | undefined;
let inflight = 0;
let target: number | undefined;
let settledAt: number | undefined;
/** True once the joins are done: from then on an unexpected close is retried. */
let retryClosed = false;
const errorSamples: string[] = [];
const send = (reply: LoadReply): void => { process.send?.(reply); };

function checkSettled(): void {
  if (target === undefined || settledAt !== undefined) return;
  let members_ = 0;
  for (const m of members) {
    if (m.ws === null || !m.joined) continue;
    if (m.count !== target) return;
    members_++;
  }
  settledAt = Date.now();
  send({ op: "settled", at: settledAt, members: members_ });
}

function onFrame(member: Member, generation: number, data: Buffer): void {
  if (member.generation !== generation) return;
  counters.frames++;
  counters.bytes += data.length;
  const text = data.toString("utf8");
  if (setup!.server === "cinder") {
    const [, ref, , event, payload] = JSON.parse(text) as [string | null, string | null, string, string, Record<string, unknown>];
    if (event === "presence_count") {
      counters.countFrames++;
      member.count = payload.connections as number;
    } else if (event === "presence_diff") counters.diffFrames++;
    else if (event === "presence_state") counters.stateFrames++;
    else {
      counters.otherFrames++;
      if (event === "phx_reply" && ref === "1") {
        if ((payload as { status?: string }).status !== "ok") throw new Error(`join refused: ${text}`);
        member.joined = true;
        inflight--;
      }
    }
  } else {
    const message = JSON.parse(text) as { op: string; members?: string[] };
    if (message.op === "state") {
      counters.stateFrames++;
      member.count = message.members!.length;
      if (!member.joined) { member.joined = true; inflight--; }
    } else if (message.op === "join") { counters.diffFrames++; member.count++; }
    else if (message.op === "leave") { counters.diffFrames++; member.count--; }
    else counters.otherFrames++;
  }
}

function connect(member: Member): void {
  const s = setup!;
  const generation = ++member.generation;
  member.joined = false;
  member.count = -1;
  inflight++;
  const url = s.server === "cinder" ? `${s.url}?vsn=2.0.0&user=u${member.index}` : `${s.url}?user=u${member.index}`;
  const ws = new WebSocket(url, { localAddress: sourceAddress(s.process, member.index), perMessageDeflate: false });
  member.ws = ws;
  ws.on("open", () => {
    if (s.server === "cinder") ws.send(JSON.stringify(["1", "1", s.topic, "phx_join", {}]));
    else ws.send(JSON.stringify({ op: "join", topic: s.topic }));
  });
  ws.on("message", (data: Buffer) => onFrame(member, generation, data));
  ws.on("error", (error) => {
    counters.errors++;
    if (errorSamples.length < 5) errorSamples.push(error.message);
  });
  ws.on("close", () => {
    if (member.generation !== generation) return;
    counters.closes++;
    if (!member.joined) inflight--;
    member.ws = null;
    member.joined = false;
    // After the joins, a connection that fails or is closed by the server comes back the way a
    // client's would (phoenix.js retries with a backoff), so counts can settle on all members.
    if (retryClosed) {
      counters.retries++;
      setTimeout(() => { if (member.generation === generation && member.ws === null) connect(member); }, 1000 + Math.random() * 1000);
    }
  });
}

async function connectAll(): Promise<void> {
  const s = setup!;
  // Heartbeats from the start (the server closes a connection silent for 60 s), 30 s apart (phoenix.js's default heartbeatIntervalMs).
  if (s.server === "cinder") {
    setInterval(() => {
      for (const m of members) if (m.ws !== null && m.ws.readyState === WebSocket.OPEN) m.ws.send('[null,"hb","phoenix","heartbeat",{}]');
    }, 30_000).unref();
  }
  const progress = setInterval(() => {
    console.log(`  load ${addressRange(s.process)}: ${members.filter((m) => m.joined).length}/${s.count} joined`);
  }, 15_000);
  for (let i = 0; i < s.count; i++) {
    const member: Member = { index: s.first + i, ws: null, joined: false, generation: 0, count: -1 };
    members.push(member);
    while (inflight >= s.batch) await new Promise((resolve) => setTimeout(resolve, 5));
    connect(member);
  }
  clearInterval(progress);
  const deadline = Date.now() + 120_000;
  while (inflight > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  const joined = members.filter((m) => m.joined).length;
  send({ op: "connected", joined, failed: members.length - joined, closes: counters.closes, errors: errorSamples });
}

/**
 * Reconnects `perSecond` random joined members a second, in 20 ms steps, for `seconds`: exactly
 * `perSecond × seconds` in all (a step that ran late catches up, also after the last second),
 * then waits (at most 60 s) until every connection is joined again, and reports both times.
 */
async function churn(perSecond: number, seconds: number): Promise<void> {
  retryClosed = true;
  const total = Math.round(perSecond * seconds);
  const start = performance.now();
  let done = 0;
  while (done < total) {
    const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * perSecond));
    for (; done < due; done++) {
      const member = members[Math.floor(Math.random() * members.length)]!;
      const old = member.ws;
      member.generation++;
      if (old !== null) {
        if (!member.joined) inflight--;
        old.terminate();
      }
      member.ws = null;
      connect(member);
    }
    if (done < total) await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const issuedMs = performance.now() - start;
  const behind = inflight;
  const deadline = performance.now() + 60_000;
  while (inflight > 0 && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
  send({ op: "churned", reconnects: done, behind, issuedMs, rejoinedMs: inflight === 0 ? performance.now() - start : null });
}

process.on("message", (command: LoadCommand) => {
  switch (command.op) {
    case "connect":
      setup = command;
      void connectAll();
      break;
    case "snapshot":
      send({ op: "snapshot", counters: { ...counters }, cpuMs: selfCpuMs(), joined: members.filter((m) => m.joined).length });
      break;
    case "churn":
      void churn(command.perSecond, command.seconds);
      break;
    case "drop": {
      let dropped = 0;
      for (let i = members.length - 1; i >= 0 && dropped < command.count; i--) {
        const member = members[i]!;
        if (member.ws === null) continue;
        member.generation++;
        member.ws.terminate();
        member.ws = null;
        member.joined = false;
        dropped++;
      }
      send({ op: "dropped", at: Date.now() });
      break;
    }
    case "target": {
      target = command.connections;
      settledAt = undefined;
      // Checked every 10 ms (not on every frame: that would cost members × frames).
      const timer = setInterval(() => { checkSettled(); if (settledAt !== undefined) clearInterval(timer); }, 10);
      break;
    }
    case "exit":
      for (const m of members) m.ws?.terminate();
      process.exit(0);
  }
});
