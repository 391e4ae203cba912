// The raw WebSocket client: a hand-written `ws` client that sends exact V1/V2/binary frames and
// records every frame it receives; and bare handshakes, for the HTTP status of a refusal.

import WebSocket from "ws";
import { RawClient } from "./raw-client.js";
import { onCleanup, serverAlive, serverExit, type ServerInfo } from "./servers.js";
import { short, topic, within } from "./util.js";

/** The query and headers of a raw WebSocket handshake. */
export interface RawOptions {
  /** vsn query param; null → omitted (V1). Default "2.0.0". */
  vsn?: string | null;
  params?: Record<string, string>;
  headers?: Record<string, string>;
}

/** The WebSocket URL with the given params and vsn. */
export function wsUrl(server: ServerInfo, opts: RawOptions = {}): string {
  const q = new URLSearchParams(opts.params ?? {});
  const vsn = opts.vsn === undefined ? "2.0.0" : opts.vsn;
  if (vsn !== null) q.set("vsn", vsn);
  const qs = q.toString();
  return qs ? `${server.websocket}?${qs}` : server.websocket;
}

/** Performs a websocket handshake and returns the HTTP status (101 on upgrade); closes right away. */
export function handshakeStatus(server: ServerInfo, opts: RawOptions = {}, ms = 3000): Promise<number> {
  return handshake(server, opts, ms).then((r) => r.status);
}

/** Like handshakeStatus, optionally offering subprotocols; also returns the selected subprotocol. */
export function handshake(server: ServerInfo, opts: RawOptions & { protocols?: string[] } = {}, ms = 3000): Promise<{ status: number; protocol: string | null }> {
  const url = wsUrl(server, opts);
  return within(new Promise<{ status: number; protocol: string | null }>((resolveS, reject) => {
    const ws = new WebSocket(url, opts.protocols ?? [], { headers: opts.headers ?? {} });
    ws.on("upgrade", (res) => {
      const p = res.headers["sec-websocket-protocol"];
      resolveS({ status: 101, protocol: typeof p === "string" ? p : null });
    });
    ws.on("open", () => ws.close(1000));
    ws.on("unexpected-response", (_req, res) => {
      resolveS({ status: res.statusCode ?? -1, protocol: null });
      res.resume();
      ws.terminate();
    });
    ws.on("error", (err) => reject(new Error(`handshake to ${url} failed without an HTTP response: ${err.message}`)));
  }), ms, `handshake response from ${url}`);
}

/** How a raw WebSocket closed, and when. */
export interface CloseInfo { code: number; reason: string; at: number }

/** A RawClient over one WebSocket (conn 0 in its log). */
export class RawWebSocket extends RawClient {
  readonly closed: Promise<CloseInfo>;
  closeInfo: CloseInfo | null = null;

  private constructor(readonly ws: WebSocket, readonly url: string) {
    super();
    this.closed = new Promise((r) => {
      ws.on("close", (code, reason) => {
        this.closeInfo = { code, reason: reason.toString(), at: Date.now() };
        this.log.add({ conn: 0, dir: "event", what: "close", code, reason: reason.toString() });
        r(this.closeInfo);
      });
    });
    ws.on("message", (data, isBinary) => {
      const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as Buffer);
      if (isBinary) this.log.add({ conn: 0, dir: "in", bin: buf });
      else this.log.add({ conn: 0, dir: "in", text: buf.toString("utf8") });
    });
    ws.on("error", (err) => { this.log.add({ conn: 0, dir: "event", what: "error", reason: err.message }); });
  }

  /** Opens a WebSocket to the server (registered for cleanup); rejects when the handshake is refused. */
  static async connect(server: ServerInfo, opts: RawOptions = {}): Promise<RawWebSocket> {
    const url = wsUrl(server, opts);
    const ws = new WebSocket(url, { headers: opts.headers ?? {} });
    const client = new RawWebSocket(ws, url);
    onCleanup(() => client.terminate());
    await within(new Promise<void>((resolveO, reject) => {
      ws.once("open", () => resolveO());
      ws.once("unexpected-response", (_req, res) => {
        res.resume();
        reject(new Error(`handshake to ${url} refused: HTTP ${res.statusCode}`));
      });
      ws.once("error", (err) => {
        const exit = serverExit();
        reject(new Error(`connect to ${url} failed: ${err.message}${exit ? `\n${exit}` : ""}`));
      });
    }), 3000, `websocket open ${url}`);
    return client;
  }

  get isOpen(): boolean { return this.ws.readyState === WebSocket.OPEN; }

  sendText(text: string): void {
    this.log.add({ conn: 0, dir: "out", text });
    this.ws.send(text);
  }

  sendJson(value: unknown): void { this.sendText(JSON.stringify(value)); }

  sendBinary(buf: Buffer): void {
    this.log.add({ conn: 0, dir: "out", bin: buf });
    this.ws.send(buf, { binary: true });
  }

  /** Sends a V2 frame; returns its ref. */
  push(joinRef: string | null, topicName: string, event: string, payload: unknown, ref: string | null = this.nextRef()): string | null {
    this.sendJson([joinRef, ref, topicName, event, payload]);
    return ref;
  }

  protected deliver(text: string): Promise<void> {
    this.sendText(text);
    return Promise.resolve();
  }

  waitClose(ms = 3000): Promise<CloseInfo> {
    return within(this.closed, ms, "websocket close", () => this.log.dump());
  }

  close(): void { if (this.ws.readyState === WebSocket.OPEN) this.ws.close(1000); }

  terminate(): void { if (this.ws.readyState !== WebSocket.CLOSED) this.ws.terminate(); }
}

/** Asserts that a fresh connection to the server works (heartbeat + join + ping). */
export async function assertServerHealthy(server: ServerInfo): Promise<void> {
  if (!serverAlive()) throw new Error(`server process died; output:\n${server.output()}`);
  const c = await RawWebSocket.connect(server);
  const hb = await c.heartbeat();
  if (JSON.stringify(hb[4]) !== JSON.stringify({ status: "ok", response: {} })) {
    throw new Error(`fresh connection: unexpected heartbeat reply ${short(hb)}`);
  }
  await c.assertJoinAndPing(topic("health"), "fresh connection");
  c.close();
}
