/**
 * One long-poll session: a socket connection whose outgoing frames are buffered as text until
 * the client polls, with at most one parked poll (answered as soon as something is buffered, or
 * with 204 when the window ends). It is the transport sink of its `SocketConnection`.
 */
import type { PollAnswer } from "@cinder/protocol";
import type { ServerResponse } from "node:http";
import type { Logger } from "../logger.js";
import type { Frame } from "../serializer/index.js";
import type { SocketConnection, TransportSink } from "../socket/index.js";
import { diagnostics, type TransportMessage } from "../diagnostics.js";
import type { ConnectionsPerIp } from "./per-ip.js";

/** What a session needs from the transport that holds it. */
export interface SessionHost {
  readonly options: {
    readonly windowMs: number;
    readonly maxBufferSize: number;
    readonly perIp: ConnectionsPerIp;
  };
  readonly logger: Logger;
  /** The message of the transport's transport-level diagnostics events (built once). */
  readonly event: TransportMessage;
  /** Forgets a closed session. */
  forget(session: Session): void;
}

/** Where a poll's answer goes: an HTTP response here, or a reply to another node. */
export interface Responder {
  send(body: PollBody): void;
  /** Registers what to do when the requester goes away before an answer. */
  onGone(callback: () => void): void;
}

/** The JSON body of a long-poll answer (the protocol's model). */
export type PollBody = PollAnswer;

interface ParkedPoll {
  responder: Responder;
  token: string;
  timer: NodeJS.Timeout;
}

/** A responder that answers an HTTP request. */
export function httpResponder(response: ServerResponse): Responder {
  return {
    send: (body) => respond(response, body),
    onGone: (callback) => { response.on("close", callback); },
  };
}

/** One long-poll session: a socket connection plus its outgoing buffer and at most one parked poll. */
export class Session implements TransportSink {
  connection!: SocketConnection;
  lastPoll = Date.now();
  closed = false;
  /** Why the session closed (a WebSocket close code; 1007 for an undecodable frame). */
  closeCode: number | undefined;
  private buffer: string[] = [];
  private bufferedBytes = 0;
  private parked: ParkedPoll | undefined;
  private flushScheduled = false;

  constructor(
    readonly id: string,
    private readonly transport: SessionHost,
    private readonly address: string,
  ) {}

  send(frame: Frame): void {
    if (this.closed) return;
    if (frame.binary) {
      this.transport.logger.warn({ session: this.id }, "long-poll: binary frames cannot be sent to long-poll clients; dropped");
      return;
    }
    const text = frame.text;
    if (diagnostics.messageOut.hasSubscribers) diagnostics.messageOut.publish(this.transport.event);
    this.buffer.push(text);
    this.bufferedBytes += text.length;
    if (this.bufferedBytes > this.transport.options.maxBufferSize) {
      this.transport.logger.warn({ session: this.id, bytes: this.bufferedBytes }, "long-poll: buffer over its limit; closing the session");
      this.close(1013, "buffer full");
      return;
    }
    if (this.parked !== undefined && !this.flushScheduled) {
      // Answer after the current tick, so frames written together travel together.
      this.flushScheduled = true;
      setImmediate(() => {
        this.flushScheduled = false;
        this.flush();
      });
    }
  }

  close(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.closeCode = code;
    this.transport.forget(this);
    this.transport.options.perIp.release(this.address);
    if (diagnostics.close.hasSubscribers) diagnostics.close.publish(this.transport.event);
    const parked = this.parked;
    this.parked = undefined;
    if (parked !== undefined) {
      clearTimeout(parked.timer);
      parked.responder.send({ status: 410, token: parked.token, messages: [] });
    }
    this.buffer = [];
    this.transport.logger.debug({ session: this.id, reason }, "long-poll session closed");
    this.connection.transportClosed();
  }

  /** A GET with this session's token. */
  poll(responder: Responder, token: string): void {
    this.lastPoll = Date.now();
    const previous = this.parked;
    if (previous !== undefined) {
      clearTimeout(previous.timer);
      previous.responder.send({ status: 204, token: previous.token, messages: [] });
      this.parked = undefined;
    }
    if (this.buffer.length > 0) {
      this.answer(responder, token);
      return;
    }
    const timer = setTimeout(() => {
      if (this.parked?.responder !== responder) return;
      this.parked = undefined;
      responder.send({ status: 204, token, messages: [] });
    }, this.transport.options.windowMs);
    this.parked = { responder, token, timer };
    responder.onGone(() => {
      if (this.parked?.responder === responder) {
        clearTimeout(timer);
        this.parked = undefined;
      }
    });
  }

  /**
   * Handles POSTed frames; returns the status to answer: 200 once they were taken — even when
   * one of them ended the session on purpose (a `"disconnect"`), as Phoenix acknowledges frames
   * before acting on them — and 410 when the session was gone or a frame could not be decoded.
   */
  dispatch(frames: ReadonlyArray<readonly [Buffer, boolean]>): number {
    if (this.closed) return 410;
    for (const [data, binary] of frames) {
      if (this.closed) break;
      if (diagnostics.messageIn.hasSubscribers) diagnostics.messageIn.publish(this.transport.event);
      this.connection.handleFrame(data, binary);
    }
    return this.closed && this.closeCode === 1007 ? 410 : 200;
  }

  /** True when the last poll is older than the reaping threshold. */
  idleSince(now: number, thresholdMs: number): boolean {
    return this.parked === undefined && now - this.lastPoll > thresholdMs;
  }

  private flush(): void {
    const parked = this.parked;
    if (parked === undefined || this.buffer.length === 0) return;
    clearTimeout(parked.timer);
    this.parked = undefined;
    this.answer(parked.responder, parked.token);
  }

  private answer(responder: Responder, token: string): void {
    const messages = this.buffer;
    this.buffer = [];
    this.bufferedBytes = 0;
    responder.send({ status: 200, token, messages });
  }
}

/** Answers a long-poll request: HTTP 200 with the real status in the JSON body, as phoenix.js expects. */
export function respond(response: ServerResponse, body: unknown): void {
  if (response.writableEnded || response.destroyed) return;
  response.writeHead(200, {
    "content-type": "application/json; charset=utf-8",
    "cache-control": "no-store",
    "access-control-allow-origin": "*",
  });
  response.end(JSON.stringify(body));
}

/** Answers with an HTTP error status and `{error}`. */
export function httpError(response: ServerResponse, status: number, error: string): void {
  if (response.writableEnded || response.destroyed) return;
  response.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "cache-control": "no-store",
    "access-control-allow-origin": "*",
  });
  response.end(JSON.stringify({ error }));
}

