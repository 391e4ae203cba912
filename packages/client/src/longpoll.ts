/**
 * `LongPoll`: the HTTP long-poll transport (docs/protocol.md §4) behind a WebSocket-like interface, built
 * on `fetch` (browsers and Node 18+). GETs open a session (status 410 + token) and then poll
 * (200 messages / 204 nothing); sends are batched per tick into ndjson POSTs of at most 100
 * lines (binary frames as base64), one POST in flight at a time. The session token goes in the
 * `X-Phoenix-Longpoll-Token` header and the `token` query param. A lost session (410 while
 * holding a token), a failed request or a timeout closes the transport so the socket reconnects.
 */
import { LONGPOLL_HEADERS, MAX_LINES_PER_POST, NDJSON_CONTENT_TYPE, readAuthToken, type PollAnswer } from "@cinder/protocol";
import { DEFAULT_LONGPOLLER_TIMEOUT, READY_STATE, TRANSPORT_PATHS } from "./constants.js";
import { base64ToBytes, bytesToBase64, toArrayBuffer, utf8Decode } from "./encoding.js";
import type { TransportCloseEvent, TransportLike, TransportMessageEvent } from "./types.js";
import { appendParams } from "./url.js";

/** A long-poll response body as it arrives: the protocol's `PollAnswer`, not yet checked. */
export type PollResponse = { readonly [K in keyof PollAnswer]?: unknown };

interface PendingRequest {
  readonly controller: AbortController;
  timedOut: boolean;
}

type FetchLike = (url: string, init: {
  method: string;
  headers: Record<string, string>;
  body?: string | null;
  signal: AbortSignal;
}) => Promise<{ text(): Promise<string> }>;

/** The mount URL's long-poll path, over HTTP(S): `ws://h/socket/websocket?x` → `http://h/socket/longpoll?x`. */
export function longPollEndpoint(endPoint: string): string {
  const [path = "", ...query] = endPoint.split("?");
  const http = path.replace(/^ws:\/\//, "http://").replace(/^wss:\/\//, "https://");
  const suffix = `/${TRANSPORT_PATHS.websocket}`;
  const swapped = http.endsWith(suffix) ? `${http.slice(0, -suffix.length)}/${TRANSPORT_PATHS.longpoll}` : http;
  return query.length > 0 ? `${swapped}?${query.join("?")}` : swapped;
}

function parseJson(text: string): PollResponse | null {
  if (text === "") return null;
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null ? (value as PollResponse) : null;
  } catch {
    return null;
  }
}

/** The long-poll transport; pass it as `transport: LongPoll` (or let `longPollFallbackMs` pick it). */
export class LongPoll implements TransportLike {
  /** 0 connecting, 1 open, 3 closed. */
  readyState: number = READY_STATE.connecting;
  /** Unused (incoming long-poll frames are always text); present for WebSocket parity. */
  binaryType = "arraybuffer";
  /** Timeout of one request, in ms (the socket sets it from `longpollerTimeout`). */
  timeout = DEFAULT_LONGPOLLER_TIMEOUT;
  /** Long-poll connections send no heartbeats. */
  readonly skipHeartbeat = true;
  /** Always 0: POSTs are tracked separately. */
  readonly bufferedAmount = 0;
  onopen: ((event: unknown) => unknown) | null = null;
  onerror: ((error: unknown) => unknown) | null = null;
  onmessage: ((event: TransportMessageEvent) => unknown) | null = null;
  onclose: ((event: TransportCloseEvent) => unknown) | null = null;
  /** The long-poll URL (with the connect params), without the session token. */
  readonly pollEndpoint: string;
  readonly #authToken: string | undefined;
  /** The session token (from the server's first 410 answer), or null before the session exists. */
  token: string | null = null;
  #requests = new Set<PendingRequest>();
  readonly #messageTimers = new Set<ReturnType<typeof setTimeout>>();
  #batch: string[] | null = null;
  #batchTimer: ReturnType<typeof setTimeout> | undefined;
  #awaitingAck = false;
  #backlog: string[] = [];

  /** `endPoint` is the socket's WebSocket URL; `protocols` may carry the auth token. */
  constructor(endPoint: string, protocols?: string | string[]) {
    this.#authToken = readAuthToken(protocols);
    this.pollEndpoint = longPollEndpoint(endPoint);
    // the first poll waits for the caller to set the callbacks (or to close us right away)
    setTimeout(() => this.poll(), 0);
  }

  /** Queues a frame; frames sent in the same tick go out in one POST. */
  send(body: string | ArrayBuffer): void {
    const buffer = typeof body === "string" ? null : toArrayBuffer(body);
    const line = buffer === null ? String(body) : bytesToBase64(new Uint8Array(buffer));
    if (this.#batch !== null) {
      this.#batch.push(line);
    } else if (this.#awaitingAck) {
      this.#backlog.push(line);
    } else {
      this.#batch = [line];
      this.#batchTimer = setTimeout(() => {
        const batch = this.#batch ?? [];
        this.#batch = null;
        this.#batchTimer = undefined;
        this.#batchSend(batch);
      }, 0);
    }
  }

  /** Stops polling and reports the close. */
  close(code?: number, reason?: string, wasClean?: boolean): void {
    this.#stop(READY_STATE.closed);
    this.#emitClose(code, reason, wasClean);
  }

  #isActive(): boolean {
    return this.readyState === READY_STATE.open || this.readyState === READY_STATE.connecting;
  }

  /** The URL of the next request: `pollEndpoint` plus the session token, once there is one. */
  endpointURL(): string {
    return this.token === null ? this.pollEndpoint : appendParams(this.pollEndpoint, { token: this.token });
  }

  /** A request took longer than `timeout`: error and close, so that the socket reconnects. */
  ontimeout(): void {
    this.#closeAndRetry("timeout", 1005, "timeout");
  }

  /** Makes the next GET (an extension point, as in phoenix.js). */
  poll(): void {
    if (!this.#isActive()) return;
    const headers: Record<string, string> = { Accept: "application/json" };
    if (this.#authToken !== undefined) headers[LONGPOLL_HEADERS.authToken] = this.#authToken;
    this.ajax("GET", headers, null, () => this.ontimeout(), (response) => {
      const status = response === null ? 0 : Number(response.status);
      if (response !== null) {
        if (status === 410 && this.token !== null) {
          // our session is gone: close, so that the socket reconnects and the channels rejoin
          this.#closeAndRetry(410, 3410, "session_gone");
          return;
        }
        if (typeof response.token === "string") this.token = response.token;
      }
      switch (status) {
        case 200: {
          const messages = Array.isArray(response?.messages) ? (response.messages as unknown[]) : [];
          // each message in its own macrotask, as WebSocket messages arrive
          for (const data of messages) {
            const timer = setTimeout(() => {
              this.#messageTimers.delete(timer);
              this.onmessage?.({ data });
            }, 0);
            this.#messageTimers.add(timer);
          }
          this.poll();
          break;
        }
        case 204:
          this.poll();
          break;
        case 410:
          this.readyState = READY_STATE.open;
          this.onopen?.({});
          this.poll();
          break;
        case 403:
          this.onerror?.(403);
          this.close(1008, "forbidden", false);
          break;
        case 0:
        case 500:
          this.#closeAndRetry(500, 1011, "internal server error");
          break;
        default:
          this.#closeAndRetry(status, 1011, `unhandled poll status ${status}`);
      }
    });
  }

  #batchSend(messages: string[], offset = 0): void {
    this.#awaitingAck = true;
    const next = offset + MAX_LINES_PER_POST;
    const batch = messages.slice(offset, next);
    this.ajax("POST", { "Content-Type": NDJSON_CONTENT_TYPE }, batch.join("\n"), () => this.ontimeout(), (response) => {
      if (response === null || response.status !== 200) {
        this.#closeAndRetry(response?.status ?? 0, 1011, "internal server error");
      } else if (next < messages.length) {
        this.#batchSend(messages, next);
      } else if (this.#backlog.length > 0) {
        const backlog = this.#backlog;
        this.#backlog = [];
        this.#batchSend(backlog);
      } else {
        this.#awaitingAck = false;
      }
    });
  }

  /** Errors and closes, leaving the transport "connecting" so its callbacks can still close it for good. */
  #closeAndRetry(error: unknown, code: number, reason: string): void {
    if (!this.#isActive()) return;
    this.#stop(READY_STATE.connecting);
    this.onerror?.(error);
    if (this.#isActive()) this.#emitClose(code, reason, false);
  }

  #stop(readyState: number): void {
    this.readyState = readyState;
    const requests = this.#requests;
    this.#requests = new Set(); // their callbacks are no longer ours
    for (const request of requests) request.controller.abort();
    for (const timer of this.#messageTimers) clearTimeout(timer);
    this.#messageTimers.clear();
    if (this.#batchTimer !== undefined) clearTimeout(this.#batchTimer);
    this.#batchTimer = undefined;
    this.#batch = null;
    this.#backlog = [];
    this.#awaitingAck = false;
  }

  #emitClose(code = 1005, reason = "", wasClean = true): void {
    this.onclose?.({ code, reason, wasClean });
  }

  /**
   * One HTTP request with `fetch` (an extension point, as in phoenix.js): `callback` gets the
   * parsed JSON body, or null on a network error or an unreadable body; `onCallerTimeout` runs
   * when no answer came within `timeout`. Callbacks of requests cancelled by a close never run.
   */
  ajax(method: string, headers: Record<string, string>, body: string | null,
    onCallerTimeout: () => void, callback: (response: PollResponse | null) => void): void {
    const fetchFn = (globalThis as { fetch?: FetchLike }).fetch;
    if (fetchFn === undefined) throw new Error("LongPoll needs a global fetch (browsers, Node 18+)");
    const request: PendingRequest = { controller: new AbortController(), timedOut: false };
    this.#requests.add(request);
    if (this.token !== null) headers[LONGPOLL_HEADERS.sessionToken] = this.token;
    const timer = this.timeout > 0
      ? setTimeout(() => { request.timedOut = true; request.controller.abort(); }, this.timeout)
      : undefined;
    const finish = (): boolean => {
      if (timer !== undefined) clearTimeout(timer);
      return this.#requests.delete(request);
    };
    fetchFn(this.endpointURL(), { method, headers, body, signal: request.controller.signal })
      .then((response) => response.text())
      .then((text) => {
        if (finish()) callback(parseJson(text));
      }, () => {
        if (!finish()) return;
        if (request.timedOut) onCallerTimeout();
        else callback(null);
      });
  }
}
