/**
 * The per-process connection limit: its default, derived from the process's file-descriptor
 * limit (Linux: the soft "Max open files" of /proc/self/limits) minus a reserve for Redis,
 * files and logs, and the refusal a connection over it gets (HTTP 503 with Retry-After and a
 * plain-text body, at once) with a rate-limited log line. It also records, per HTTP server, what
 * its endpoints' limits say (`trackRoom` / `roomOf`), which one-machine mode reports to the
 * primary so that it hands a full worker no connection.
 */
import { readFileSync } from "node:fs";
import type { Duplex } from "node:stream";
import type { Logger } from "./logger.js";

/** Descriptors kept back from the fd limit for everything else (Redis, files, logs, IPC): at most 1 000, at most a quarter. */
export function fdReserve(fdLimit: number): number {
  return Math.min(1_000, Math.floor(fdLimit / 4));
}

/** The soft limit on open files from a /proc/<pid>/limits text, or undefined (unlimited or absent). */
export function parseFdLimit(limits: string): number | undefined {
  const match = /^Max open files\s+(\S+)/m.exec(limits);
  if (match === null || match[1] === undefined) return undefined;
  const value = Number(match[1]);
  return Number.isSafeInteger(value) && value > 0 ? value : undefined;
}

/**
 * The default `maxConnections`: this process's fd limit minus `fdReserve`, or 0 (no limit) where
 * the limit cannot be read (not Linux) or is unlimited.
 */
export function defaultMaxConnections(limitsPath = "/proc/self/limits"): number {
  let text: string;
  try {
    text = readFileSync(limitsPath, "utf8");
  } catch {
    return 0;
  }
  const limit = parseFdLimit(text);
  return limit === undefined ? 0 : limit - fdReserve(limit);
}

/** How often at most a refusal is logged (the line counts the refusals since the last one). */
const LOG_EVERY_MS = 10_000;

/** The raw HTTP/1.1 503 (Retry-After: 1, connection closed) with a plain-text `body`. */
export function serviceUnavailable(body: string): string {
  return `HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nConnection: close\r\n` +
    `Content-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
}

/** Counts events and says when a log line is due: at most one per `everyMs`, with the count since the last. */
export class LogEvery {
  private count = 0;
  private lastAt = -Infinity;

  constructor(private readonly everyMs = LOG_EVERY_MS) {}

  /** Counts one event; returns how many to report (this one included) when a line is due, else undefined. */
  note(): number | undefined {
    this.count++;
    const now = performance.now();
    if (now - this.lastAt < this.everyMs) return undefined;
    this.lastAt = now;
    const count = this.count;
    this.count = 0;
    return count;
  }
}

/** What one endpoint's limit says about room for another connection. */
export interface Room {
  /** Its `maxConnections`; 0 for no limit. */
  max: number;
  /** True when it would refuse a new connection now. */
  full: boolean;
}

const rooms = new WeakMap<object, Set<() => Room>>();

/** Records `probe` as one endpoint's room on `server`; returns the function that forgets it. */
export function trackRoom(server: object, probe: () => Room): () => void {
  let probes = rooms.get(server);
  if (probes === undefined) rooms.set(server, probes = new Set());
  probes.add(probe);
  return () => { probes.delete(probe); };
}

/**
 * The room of the endpoints attached to `server`: the smallest non-zero `max` (0 when none has a
 * limit), full when any is full; undefined when no endpoint is attached.
 */
export function roomOf(server: object): Room | undefined {
  const probes = rooms.get(server);
  if (probes === undefined || probes.size === 0) return undefined;
  let max = 0;
  let full = false;
  for (const probe of probes) {
    const room = probe();
    if (room.max > 0 && (max === 0 || room.max < max)) max = room.max;
    full ||= room.full;
  }
  return { max, full };
}

/** Refuses connections over the limit: 503 at once, and a log line at most every 10 s. */
export class ConnectionLimit {
  private readonly log = new LogEvery();

  /** `max` 0 means no limit. */
  constructor(readonly max: number, private readonly logger: Logger) {
    if (!Number.isInteger(max) || max < 0) throw new Error(`maxConnections must be a non-negative integer, got ${String(max)}`);
  }

  /** True when `open` connections leave no room for one more. */
  full(open: number): boolean {
    return this.max > 0 && open >= this.max;
  }

  /** Answers a raw upgrade socket with 503 and ends it, logging (rate-limited). */
  refuseUpgrade(socket: Duplex, open: number): void {
    socket.end(serviceUnavailable(`server full: this process holds ${open} of its ${this.max} connections; retry shortly\n`));
    this.note(open);
  }

  /** The body of a 503 for an HTTP (long-poll) request; logs like `refuseUpgrade`. */
  refusalBody(open: number): string {
    this.note(open);
    return `server full: this process holds ${open} of its ${this.max} connections; retry shortly\n`;
  }

  private note(open: number): void {
    const refused = this.log.note();
    if (refused === undefined) return;
    this.logger.warn({ open, maxConnections: this.max, refused }, "connection refused: this process is at maxConnections (503)");
  }
}
