/**
 * What the scale runner (run.ts) and its load processes (load.ts) say to each other over IPC,
 * and the one payload format every broadcast of the scenario carries.
 *
 * A broadcast's payload is `{"t":<send time, Date.now() ms>,"s":<sequence>}` (the demo's
 * `new_msg` body is the string `t:<ms> s:<seq>`): all processes run on one machine, so the
 * runner's send time and a load process's receive time read the same clock.
 */

/** The three servers of the scenario. */
export type ScaleServerId = "cinder" | "demo" | "socketio" | "ws";

/** Every server id, in report order. */
export const SCALE_SERVERS: readonly ScaleServerId[] = ["cinder", "demo", "socketio", "ws"];

/** How one load process connects. */
export interface ConnectPlan {
  server: ScaleServerId;
  /** `ws://host:port` (no path). */
  base: string;
  /** The topic every connection joins (Cinder `echo:scale`, demo `notifications:all`, Socket.IO room and ws topic `scale`). */
  topic: string;
  /** This process's first connection index and how many it holds. */
  first: number;
  count: number;
  /** This load process's index: its connections bind `sourceAddress(process, index)` (load/source-addresses.ts). */
  process: number;
  /** At most this many connecting + joining at once. */
  concurrency: number;
  /** Connects started per second at most (0: no pacing, only `concurrency`). */
  rate: number;
  /** A connection not joined within this many ms counts as failed and is closed. */
  joinTimeoutMs: number;
  /** Demo only: the socket token of each connection (index − first). */
  tokens?: string[];
  /** Phoenix heartbeat period (Cinder, demo), ms; Socket.IO answers the server's pings instead. */
  heartbeatMs: number;
}

/** Runner → load process. */
export type LoadCommand =
  | { op: "connect"; plan: ConnectPlan }
  | { op: "status" }
  | { op: "deliveries" }
  | { op: "exit" };

/** The per-broadcast deliveries one load process saw. */
export interface DeliveryRecord {
  seq: number;
  /** The send time the payload carried (ms since the epoch). */
  sentAt: number;
  /** Connections of this process that received it. */
  count: number;
  /** First and last receive time here (ms since the epoch). */
  first: number;
  last: number;
}

/** A load process's counters. */
export interface LoadStatus {
  /** Connections that joined (some may have closed since: `closesAfterJoin`). */
  joined: number;
  /** Connections open right now (joined and not closed). */
  open: number;
  failed: number;
  /** Closes of joined connections so far, in all. */
  closesAfterJoin: number;
  /** Those closes by close code (and reason, when the server gave one). */
  closeCodes: Record<string, number>;
  /** When the first connect started and the last join was acknowledged (ms since the epoch). */
  firstStartAt: number;
  lastJoinAt: number;
  /** Connect → join acknowledged, ms: p50 / p99 / max over this process's joins. */
  joinMs: { p50: number; p99: number; max: number };
  /** Frames received, in all, and heartbeats sent. */
  frames: number;
  heartbeats: number;
  /** The longest this process's event loop was late for its 1 s timer, ms (a stalled load process). */
  maxStallMs: number;
  cpuMs: number;
  rssBytes: number;
  /** Up to 5 distinct error messages. */
  errors: string[];
}

/** Load process → runner. */
export type LoadReply =
  | { op: "connected"; status: LoadStatus }
  | { op: "status"; status: LoadStatus }
  | { op: "deliveries"; records: DeliveryRecord[] };

/** The payload of broadcast `seq` sent at `sentAt`. */
export function scalePayload(seq: number, sentAt: number): { t: number; s: number } {
  return { t: sentAt, s: seq };
}

/** The demo's `new_msg` body for broadcast `seq` sent at `sentAt`. */
export function demoBody(seq: number, sentAt: number): string {
  return `t:${sentAt} s:${seq}`;
}
