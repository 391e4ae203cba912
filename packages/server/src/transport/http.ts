/** Small HTTP helpers for transports: refusing an upgrade on a raw socket, and connect info. */
import { STATUS_CODES, type IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import type { ConnectInfo } from "../socket/index.js";

/** Answers an upgrade request with a plain HTTP status (and the reason as the body), then closes. */
export function refuseUpgrade(socket: Duplex, status: number, reason?: string): void {
  if (socket.destroyed) return;
  const body = reason ?? "";
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? "Error"}\r\n` +
    "Connection: close\r\n" +
    "Content-Type: text/plain; charset=utf-8\r\n" +
    `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

/** Builds the connect info of a request. */
export function connectInfo(request: IncomingMessage, uri: URL, transport: string, authToken: string | undefined): ConnectInfo {
  const xHeaders: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (name.startsWith("x-") && value !== undefined) xHeaders[name] = Array.isArray(value) ? value.join(", ") : value;
  }
  return {
    peer: { address: request.socket.remoteAddress ?? "", port: request.socket.remotePort ?? 0 },
    uri,
    origin: request.headers.origin,
    userAgent: request.headers["user-agent"],
    xHeaders,
    authToken,
    transport,
    request,
  };
}

/** The request's URL, or null when it cannot be parsed. */
export function requestUrl(request: IncomingMessage): URL | null {
  try {
    return new URL(request.url ?? "/", "http://localhost");
  } catch {
    return null;
  }
}
