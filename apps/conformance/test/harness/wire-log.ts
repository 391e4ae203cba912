// The wire log: every frame a test client sent or received (and, for long-poll, every HTTP
// exchange), with matching, bounded waits and a readable dump for failure messages.

import assert from "node:assert/strict";
import { decodeServerBinary, type BinaryMessage } from "./binary.js";
import { delay, short } from "./util.js";

/** A V2 message: [join_ref, ref, topic, event, payload]. */
export type V2 = [string | null, string | null, string, string, unknown];

/** One recorded frame (dir "in"/"out") or transport event (dir "event") of a test client. */
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


/** One line describing an entry, for failure messages. */
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

/** What a frame must be to match (absent fields match anything). */
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

/** Whether an entry is a frame matching `m`. */
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

/** The frames and events one test client saw, in order, with bounded waits on them. */
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

/** The decoded binary frame of a wire entry, asserting it is a binary frame and well formed. */
export function bin(e: WireEntry | undefined): BinaryMessage {
  assert.ok(e?.bin, "a binary frame");
  const m = e.binMsg;
  assert.ok(m !== undefined && typeof m !== "string", `well-formed binary frame: ${m} (hex ${e.bin.toString("hex")})`);
  return m;
}
