/**
 * The per-process connection limit: its default, derived from the process's file-descriptor
 * limit (Linux: the soft "Max open files" of /proc/self/limits) minus a reserve for Redis,
 * files and logs, and the refusal a connection over it gets (HTTP 503 with Retry-After and a
 * plain-text body, at once) with a rate-limited log line.
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

/** Refuses connections over the limit: 503 at once, and a log line at most every 10 s. */
export class ConnectionLimit {
  private refusedSinceLog = 0;
  private lastLogAt = -Infinity;

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
    const body = `server full: this process holds ${open} of its ${this.max} connections; retry shortly\n`;
    socket.end(`HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nConnection: close\r\n` +
      `Content-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    this.note(open);
  }

  /** The body of a 503 for an HTTP (long-poll) request; logs like `refuseUpgrade`. */
  refusalBody(open: number): string {
    this.note(open);
    return `server full: this process holds ${open} of its ${this.max} connections; retry shortly\n`;
  }

  private note(open: number): void {
    this.refusedSinceLog++;
    const now = performance.now();
    if (now - this.lastLogAt < LOG_EVERY_MS) return;
    this.lastLogAt = now;
    this.logger.warn({ open, maxConnections: this.max, refused: this.refusedSinceLog },
      "connection refused: this process is at maxConnections (503)");
    this.refusedSinceLog = 0;
  }
}
