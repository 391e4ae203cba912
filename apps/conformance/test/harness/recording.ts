// Recording transports for the clients under test: a `ws` WebSocket subclass and a subclass of
// the client's own LongPoll that write every frame (and every long-poll HTTP exchange) into a
// WireLog, and a gate that holds a LongPoll's polls.

import WebSocket from "ws";
import * as phoenix from "phoenix";
import type { WireLog } from "./wire-log.js";

/** A `ws` WebSocket subclass that records everything into `log` (one conn number per instance). */
export function recordingTransport(log: WireLog): new (address: string, protocols?: string | string[]) => WebSocket {
  let count = 0;
  class RecordingWebSocket extends WebSocket {
    readonly connIndex: number;
    constructor(address: string, protocols?: string | string[]) {
      super(address, protocols);
      const conn = count++;
      this.connIndex = conn;
      log.add({ conn, dir: "event", what: "construct", url: address,
        ...(protocols === undefined ? {} : { protocols: Array.isArray(protocols) ? protocols : [protocols] }) });
      this.on("open", () => log.add({ conn, dir: "event", what: "open" }));
      this.on("close", (code: number, reason: Buffer) => log.add({ conn, dir: "event", what: "close", code, reason: reason.toString() }));
      this.on("error", (err: Error) => log.add({ conn, dir: "event", what: "error", reason: err.message }));
      // (no "unexpected-response" listener: ws then reports a refused handshake as an error
      // "Unexpected server response: 403" followed by close, which is what the client sees)
      this.on("message", (data: unknown, isBinary: boolean) => {
        const buf = data instanceof ArrayBuffer ? Buffer.from(data)
          : Array.isArray(data) ? Buffer.concat(data as Buffer[]) : Buffer.from(data as Buffer);
        if (isBinary) log.add({ conn, dir: "in", bin: Buffer.from(buf) });
        else log.add({ conn, dir: "in", text: buf.toString("utf8") });
      });
    }
    override send(data: any, optionsOrCb?: any, cb?: any): void {
      if (typeof data === "string") log.add({ conn: this.connIndex, dir: "out", text: data });
      else log.add({ conn: this.connIndex, dir: "out", bin: Buffer.from(data instanceof ArrayBuffer ? new Uint8Array(data) : data) });
      (super.send as (...args: unknown[]) => void)(data, optionsOrCb, cb);
    }
  }
  return RecordingWebSocket;
}

/** Lets a test hold a client LongPoll's polls (no GET is made while held). */
export class PollGate {
  private held = false;
  private pending: (() => void) | null = null;

  /** From now on, the next poll of the socket's LongPoll waits for release(). */
  hold(): void { this.held = true; }

  /** Lets a held poll go, and later ones too. */
  release(): void {
    this.held = false;
    const p = this.pending;
    this.pending = null;
    p?.();
  }

  /** True when a poll is waiting (so no GET is in flight). */
  get waiting(): boolean { return this.pending !== null; }

  /** @internal called by the recording LongPoll instead of polling */
  intercept(poll: () => void): boolean {
    if (!this.held) return false;
    this.pending = poll;
    return true;
  }
}

type Handler = (arg: any) => void;

/**
 * A subclass of the client's own `LongPoll` (phoenix.js's or @cinder/client's: both expose
 * `poll`, `ajax`, `send`, `endpointURL`, `pollEndpoint` and `token`) that records into `log` (one
 * conn number per instance): every frame the client sends as an "out" frame when it hands it to
 * the transport (as the ws transport does; LongPoll POSTs it a tick later, batched), the HTTP
 * exchanges as "request" (with the POST body) / "response" (the parsed JSON) events, every message
 * of a GET answer as an "in" frame (when the answer arrives, before the client dispatches it), and
 * open/error/close. `construct` carries the poll URL (http…/socket/longpoll?<params>&vsn=2.0.0).
 */
export function recordingLongPoll(log: WireLog, gate: PollGate = new PollGate(), Base: typeof phoenix.LongPoll = phoenix.LongPoll): typeof phoenix.LongPoll {
  let count = 0;
  class RecordingLongPoll extends Base {
    connIndex: number;
    constructor(endPoint: string, protocols?: string[]) {
      super(endPoint, protocols);
      const conn = count++;
      this.connIndex = conn;
      log.add({ conn, dir: "event", what: "construct", url: this.pollEndpoint,
        ...(protocols === undefined ? {} : { protocols: [...protocols] }) });
      // the socket assigns onopen/onerror/onclose after construction: record, then call its
      // handler (phoenix.js starts with no-op handlers, @cinder/client with null)
      const hook = (name: "onopen" | "onerror" | "onclose", record: Handler): void => {
        let handler = (this as unknown as Record<string, Handler | null>)[name] ?? null;
        const wrapped: Handler = (arg) => { record(arg); handler?.(arg); };
        Object.defineProperty(this, name, { configurable: true, enumerable: true, get: () => wrapped, set: (h: Handler | null) => { handler = h; } });
      };
      hook("onopen", () => log.add({ conn, dir: "event", what: "open" }));
      hook("onerror", (err) => log.add({ conn, dir: "event", what: "error", reason: String(err) }));
      hook("onclose", (ev: { code?: number; reason?: string } | undefined) => log.add({
        conn, dir: "event", what: "close", ...(ev?.code !== undefined ? { code: ev.code } : {}), reason: ev?.reason ?? "" }));
    }

    override poll(): void {
      if (gate.intercept(() => super.poll())) return;
      super.poll();
    }

    override send(body: string | ArrayBuffer): void {
      if (typeof body === "string") log.add({ conn: this.connIndex, dir: "out", text: body });
      else log.add({ conn: this.connIndex, dir: "out", bin: Buffer.from(new Uint8Array(body)) });
      super.send(body);
    }

    override ajax(method: string, headers: Record<string, string>, body: string | null, onCallerTimeout: () => void, callback: (response: any) => void): void {
      const conn = this.connIndex;
      log.add({ conn, dir: "event", what: "request", method, url: this.endpointURL(), headers: { ...headers },
        ...(body !== null ? { body } : {}) });
      super.ajax(method, headers, body, () => {
        log.add({ conn, dir: "event", what: "response", method, reason: "timeout" });
        onCallerTimeout();
      }, (response: any) => {
        log.add({ conn, dir: "event", what: "response", method, response });
        if (method === "GET" && response !== null && typeof response === "object" && response.status === 200 && Array.isArray(response.messages)) {
          for (const m of response.messages as unknown[]) log.add({ conn, dir: "in", text: typeof m === "string" ? m : JSON.stringify(m) });
        }
        callback(response);
      });
    }
  }
  return RecordingLongPoll;
}
