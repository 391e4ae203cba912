/**
 * The long-poll transport (docs/protocol.md §4), for networks that break WebSockets. A session is
 * one socket connection whose outgoing frames are buffered as text until the client polls:
 * `GET <path>/longpoll` without a valid token authorizes and creates a session (answers
 * `{"status":410,"token":T}`); with a token it answers at once with everything buffered, or parks
 * up to `windowMs` (then `{"status":204}`); `POST` takes ndjson batches (text frames, or binary
 * frames as base64 lines; at most 100 lines). HTTP status is always 200 with the real status in
 * the body, as phoenix.js expects; OPTIONS answers CORS preflights. Sessions that stop polling
 * are reaped: their channels end and their presences leave.
 *
 * Session tokens are Cinder `Token`s (Phoenix.Token's format) over the session id, which embeds
 * the node name, signed with `secret` and the transport's own salt and valid for `tokenMaxAge`
 * seconds (14 days, as Phoenix), so they cannot be forged (share `secret` across a cluster). A
 * tampered or expired token is answered as Phoenix does (docs/protocol.md §4.1, §4.3): a GET
 * creates a new session (410 with a new token), a POST gets `{"status":410}`. In a cluster a request may
 * land on a node that does not hold the session (no sticky routing needed): that node forwards
 * it over PubSub to the owner (topic `phx:lp:<node>`), which answers the same way.
 */
import { decodeParams, LONGPOLL_HEADERS, MAX_LINES_PER_POST, NDJSON_CONTENT_TYPE } from "@cinder/protocol";
import { randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "../logger.js";
import { diagnostics, type TransportMessage } from "../diagnostics.js";
import type { BroadcastMessage, Subscriber } from "../pubsub/index.js";
import { Token, TokenError } from "../token/index.js";
import { authorize, SocketConnection, type SocketContext, type SocketDefinition } from "../socket/index.js";
import { connectInfo } from "./http.js";
import { httpError, httpResponder, respond, Session, type PollBody, type SessionHost } from "./longpoll-session.js";
import type { ConnectionsPerIp } from "./per-ip.js";

/** The long-poll headers as Node.js hands them over (lower-cased). */
const AUTH_TOKEN_HEADER = LONGPOLL_HEADERS.authToken.toLowerCase();
const SESSION_TOKEN_HEADER = LONGPOLL_HEADERS.sessionToken.toLowerCase();

/** Long-poll options. */
export interface LongPollOptions {
  /** How long a poll is held open when nothing is buffered. Default 10 000 ms. */
  windowMs?: number;
  /** Largest POST body in bytes; larger answers HTTP 413. Default 8 MiB. */
  maxBodySize?: number;
  /** Most lines of one POST that are processed; the rest are ignored. Default 100. */
  maxLinesPerPost?: number;
  /** Largest buffer of unpolled frames in bytes; a session over it is closed. Default 8 MiB. */
  maxBufferSize?: number;
  /** Secret for session tokens, at least 20 bytes (share it across a cluster). Default random per process. */
  secret?: string;
  /** Seconds a session token stays valid; an older one is answered like a bad one. Default 1 209 600 (14 days, as Phoenix). */
  tokenMaxAge?: number;
}

/** What the long-poll transport needs from the endpoint. */
export interface LongPollTransportOptions extends Required<Omit<LongPollOptions, "secret">> {
  secret: string;
  socket: SocketDefinition;
  context: SocketContext;
  nodeName: string;
  checkOrigin: (request: IncomingMessage) => boolean;
  perIp: ConnectionsPerIp;
  logger: Logger;
}

/** Long-poll defaults. */
export const longPollDefaults = {
  windowMs: 10_000,
  maxBodySize: 8 * 1024 * 1024,
  maxLinesPerPost: MAX_LINES_PER_POST,
  maxBufferSize: 8 * 1024 * 1024,
  tokenMaxAge: 14 * 24 * 60 * 60,
} as const;

/** The salt of session tokens: their own, so no other token signed with the same secret passes for one. */
export const SESSION_TOKEN_SALT = "cinder longpoll session";

/** The shortest `secret` `Token` accepts, in bytes. */
const MIN_SECRET_BYTES = 20;

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
/** Longer tokens are refused unread (a signed session id is ~140 characters plus the node name's length). */
const MAX_TOKEN_LENGTH = 2048;

/** A request forwarded to the node that owns a session, and the owner's answer. */
type Forwarded =
  | { kind: "get"; id: number; from: string; session: string; token: string }
  | { kind: "post"; id: number; from: string; session: string; frames: Array<[text: string, binary: boolean]> }
  | { kind: "answer"; id: number; body: PollBody | null };

/** How long a node waits for another node to answer a forwarded request, beyond the poll window. */
const FORWARD_TIMEOUT_MS = 2_000;

/** The long-poll transport of an endpoint. */
export class LongPollTransport implements Subscriber, SessionHost {
  /** The options in force. */
  readonly options: LongPollTransportOptions;
  /** The logger. */
  readonly logger: Logger;
  /** The message of this transport's transport-level diagnostics events. */
  readonly event: TransportMessage;
  private readonly sessions = new Map<string, Session>();
  private readonly reaper: NodeJS.Timeout;
  private readonly forwardTopic: string;
  private readonly pending = new Map<number, (body: PollBody | null) => void>();
  private nextForward = 0;

  constructor(options: LongPollTransportOptions) {
    if (Buffer.byteLength(options.secret, "utf8") < MIN_SECRET_BYTES) {
      throw new RangeError(`longpoll.secret must be at least ${MIN_SECRET_BYTES} bytes`);
    }
    if (!(options.tokenMaxAge > 0)) throw new RangeError("longpoll.tokenMaxAge must be a positive number of seconds");
    this.options = options;
    this.logger = options.logger;
    this.event = { endpoint: options.context.endpointId, transport: "longpoll" };
    const threshold = 1.5 * options.windowMs;
    this.reaper = setInterval(() => {
      const now = Date.now();
      for (const session of this.sessions.values()) {
        if (session.idleSince(now, threshold)) session.close(1001, "inactive");
      }
    }, threshold);
    this.reaper.unref();
    this.forwardTopic = `phx:lp:${options.nodeName}`;
    options.context.pubsub.subscribe(this.forwardTopic, this);
  }

  /** Open sessions. */
  get size(): number {
    return this.sessions.size;
  }

  /** Handles a request for `<path>/longpoll`. */
  handle(request: IncomingMessage, response: ServerResponse, uri: URL): void {
    switch (request.method) {
      case "OPTIONS":
        response.writeHead(200, {
          "access-control-allow-origin": "*",
          "access-control-allow-headers": request.headers["access-control-request-headers"] ?? "",
          "access-control-allow-methods": "get, post, options",
          "access-control-max-age": "3600",
        });
        response.end();
        return;
      case "GET":
      case "POST":
        // Every poll and every send is checked, not only the one that opens the session: a
        // session token does not make a foreign page's request welcome.
        if (!this.options.checkOrigin(request)) {
          this.logger.warn({ origin: request.headers.origin }, "long-poll request refused: origin not allowed");
          if (diagnostics.connect.hasSubscribers) {
            diagnostics.connect.publish({ endpoint: this.event.endpoint, transport: "longpoll", accepted: false, status: 403, durationMs: 0 });
          }
          respond(response, { status: 403 });
          return;
        }
        break;
      default:
        httpError(response, 400, "long-poll accepts GET, POST and OPTIONS");
        return;
    }
    if (request.method === "GET") {
      void this.get(request, response, uri).catch((error: unknown) => {
        this.logger.error({ err: error }, "long-poll GET failed");
        httpError(response, 500, "internal error");
      });
    } else {
      this.post(request, response, uri);
    }
  }

  /** Closes every session (code is informational: long-poll has no close frame). */
  closeAll(code: number, reason: string): void {
    for (const session of [...this.sessions.values()]) session.close(code, reason);
    clearInterval(this.reaper);
    this.options.context.pubsub.unsubscribe(this.forwardTopic, this);
  }

  /** Forgets a closed session. */
  forget(session: Session): void {
    this.sessions.delete(session.id);
  }

  /** A request forwarded by another node, or the answer to one we forwarded. */
  deliver(message: BroadcastMessage): void {
    const request = message.payload as Forwarded;
    if (request.kind === "answer") {
      this.pending.get(request.id)?.(request.body);
      return;
    }
    const reply = (body: PollBody | null): void => {
      this.options.context.pubsub.directBroadcast(request.from, `phx:lp:${request.from}`, "answer",
        { kind: "answer", id: request.id, body } satisfies Forwarded);
    };
    const session = this.sessions.get(request.session);
    if (session === undefined || session.closed) {
      reply(null);
      return;
    }
    if (request.kind === "get") {
      session.poll({ send: reply, onGone: () => {} }, request.token);
    } else {
      const frames = request.frames.map(([text, binary]) => [Buffer.from(text, binary ? "base64" : "utf8"), binary] as const);
      reply({ status: session.dispatch(frames) });
    }
  }

  private async get(request: IncomingMessage, response: ServerResponse, uri: URL): Promise<void> {
    const token = this.tokenOf(request, uri);
    const target = token === undefined ? undefined : this.locate(token);
    if (target?.session !== undefined && token !== undefined) {
      target.session.poll(httpResponder(response), token);
      return;
    }
    if (target?.node !== undefined && token !== undefined) {
      const body = await this.forward(target.node, { kind: "get", session: target.id, token }, this.options.windowMs + FORWARD_TIMEOUT_MS);
      if (body !== null) {
        respond(response, body);
        return;
      }
    }
    await this.create(request, response, uri);
  }

  private async create(request: IncomingMessage, response: ServerResponse, uri: URL): Promise<void> {
    const started = performance.now();
    const refused = (): void => {
      if (diagnostics.connect.hasSubscribers) {
        diagnostics.connect.publish({ endpoint: this.event.endpoint, transport: "longpoll", accepted: false, status: 403, durationMs: performance.now() - started });
      }
      respond(response, { status: 403 });
    };
    const header = request.headers[AUTH_TOKEN_HEADER];
    const authToken = typeof header === "string" ? header : undefined;
    const address = request.socket.remoteAddress ?? "";
    if (!this.options.perIp.acquire(address)) {
      this.logger.warn({ address }, "long-poll connection refused: too many connections from this address");
      refused();
      return;
    }
    const params = decodeParams(uri.search.slice(1));
    const outcome = await authorize(this.options.socket, params, connectInfo(request, uri, "longpoll", authToken), this.logger, this.options.context.revocations);
    if (outcome.kind === "refuse") {
      this.options.perIp.release(address);
      refused();
      return;
    }
    if (diagnostics.connect.hasSubscribers) {
      diagnostics.connect.publish({ endpoint: this.event.endpoint, transport: "longpoll", accepted: true, durationMs: performance.now() - started });
    }
    const id = `${this.options.nodeName}~${randomBytes(16).toString("base64url")}`;
    const session = new Session(id, this, address);
    session.connection = new SocketConnection(this.options.context, session, outcome);
    this.sessions.set(id, session);
    respond(response, { status: 410, token: this.sign(id), messages: [] });
  }

  private post(request: IncomingMessage, response: ServerResponse, uri: URL): void {
    const token = this.tokenOf(request, uri);
    const target = token === undefined ? undefined : this.locate(token);
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    request.on("data", (chunk: Buffer) => {
      if (tooLarge) return;
      size += chunk.length;
      if (size > this.options.maxBodySize) {
        tooLarge = true;
        chunks.length = 0;
        httpError(response, 413, `body larger than ${this.options.maxBodySize} bytes`);
        request.resume();
        return;
      }
      chunks.push(chunk);
    });
    request.on("error", () => httpError(response, 400, "unreadable body"));
    request.on("end", () => {
      if (tooLarge) return;
      if (target === undefined || (target.session === undefined && target.node === undefined) || target.session?.closed) {
        respond(response, { status: 410 });
        return;
      }
      const body = Buffer.concat(chunks).toString("utf8");
      const ndjson = (request.headers["content-type"] ?? "").startsWith(NDJSON_CONTENT_TYPE);
      const lines = ndjson
        ? body.split(/\r?\n/).filter((line) => line.length > 0).slice(0, this.options.maxLinesPerPost)
        : [body];
      const frames: Array<[text: string, binary: boolean]> = [];
      for (const line of lines) {
        if (!ndjson || line.startsWith("[")) frames.push([line, false]);
        else if (BASE64.test(line)) frames.push([line, true]);
        else {
          httpError(response, 400, "a line is neither a JSON frame nor base64");
          return;
        }
      }
      if (target.session !== undefined) {
        const decoded = frames.map(([text, binary]) => [Buffer.from(text, binary ? "base64" : "utf8"), binary] as const);
        respond(response, { status: target.session.dispatch(decoded) });
        return;
      }
      void this.forward(target.node!, { kind: "post", session: target.id, frames }, FORWARD_TIMEOUT_MS)
        .then((answer) => respond(response, answer ?? { status: 410 }));
    });
  }

  /** Sends a request to the node that owns a session; resolves with its answer, or null. */
  private forward(node: string, request: { kind: "get"; session: string; token: string } | { kind: "post"; session: string; frames: Array<[string, boolean]> }, timeoutMs: number): Promise<PollBody | null> {
    const id = ++this.nextForward;
    return new Promise((resolve) => {
      const timer = setTimeout(() => finish(null), timeoutMs);
      const finish = (body: PollBody | null): void => {
        clearTimeout(timer);
        this.pending.delete(id);
        resolve(body);
      };
      this.pending.set(id, finish);
      this.options.context.pubsub.directBroadcast(node, `phx:lp:${node}`, request.kind,
        { ...request, id, from: this.options.nodeName } satisfies Forwarded);
    });
  }

  private tokenOf(request: IncomingMessage, uri: URL): string | undefined {
    const header = request.headers[SESSION_TOKEN_HEADER];
    if (typeof header === "string" && header.length > 0) return header;
    const values = uri.searchParams.getAll("token");
    const last = values[values.length - 1];
    return last !== undefined && last.length > 0 ? last : undefined;
  }

  /** Where a token's session lives: here (`session`), on another node (`node`), or nowhere. */
  private locate(token: string): { id: string; session?: Session; node?: string } | undefined {
    const id = this.verify(token);
    if (id === undefined) return undefined;
    const session = this.sessions.get(id);
    if (session !== undefined) return { id, session };
    const node = id.slice(0, id.lastIndexOf("~"));
    return node !== this.options.nodeName && node.length > 0 ? { id, node } : { id };
  }

  private sign(id: string): string {
    return Token.sign(this.options.secret, SESSION_TOKEN_SALT, id, { maxAge: this.options.tokenMaxAge });
  }

  /** The session id a token was signed for, or undefined for a tampered, expired or oversized one. */
  private verify(token: string): string | undefined {
    if (token.length > MAX_TOKEN_LENGTH) return undefined;
    try {
      const id = Token.verify(this.options.secret, SESSION_TOKEN_SALT, token, { maxAge: this.options.tokenMaxAge });
      return typeof id === "string" ? id : undefined;
    } catch (error) {
      if (!(error instanceof TokenError)) throw error;
      this.logger.debug({ reason: error.reason }, "long-poll session token refused");
      return undefined;
    }
  }
}
