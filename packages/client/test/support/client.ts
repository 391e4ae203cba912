/** Test support: client sockets over `ws` (Node 20 has no global WebSocket), closed after each test. */
import { afterEach } from "node:test";
import WebSocket from "ws";
import { Socket, type Channel, type SocketOptions, type TransportConstructor } from "../../src/index.js";
import { waitUntil } from "./server.js";

const open = new Set<Socket>();

/** Registers an afterEach hook that disconnects every socket the test created. */
export function useCleanup(): void {
  afterEach(async () => {
    const sockets = [...open];
    open.clear();
    await Promise.all(sockets.map((s) => new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 500);
      s.disconnect(() => { clearTimeout(timer); resolve(); });
    })));
  });
}

/** A client socket over `ws` (short timeouts), connected unless `connect: false`. */
export function clientSocket(url: string, opts: SocketOptions & { connect?: boolean } = {}): Socket {
  const { connect = true, ...rest } = opts;
  const socket = new Socket(url, { transport: WebSocket, timeout: 2000, ...rest });
  open.add(socket);
  if (connect) socket.connect();
  return socket;
}

/** Waits until the socket is connected. */
export function connected(socket: Socket, ms = 3000): Promise<void> {
  return waitUntil(() => socket.isConnected(), ms, "socket connected");
}

/** Waits until the channel has this state. */
export function inState(channel: { state: string; topic: string }, state: string, ms = 3000): Promise<void> {
  return waitUntil(() => channel.state === state, ms, `channel ${channel.topic} in state ${state} (now ${channel.state})`);
}

/** Resolves with the payload of the next `event` on the channel (bounded). */
export function nextEvent(channel: Channel, event: string, ms = 3000): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { channel.off(event, ref); reject(new Error(`no "${event}" on ${channel.topic} within ${ms} ms`)); }, ms);
    const ref = channel.on(event, (payload) => { clearTimeout(timer); channel.off(event, ref); resolve(payload); });
  });
}

let unique = 0;
/** A fresh topic under `prefix` so tests never see each other's broadcasts. */
export function topic(prefix = "room"): string {
  unique += 1;
  return `${prefix}:t${process.pid}-${unique}-${Math.random().toString(36).slice(2, 7)}`;
}

/** A frame seen by a recording transport. */
export interface Frame {
  dir: "in" | "out";
  /** which connection of this transport (0, 1, ...) */
  conn: number;
  /** the V2 array for text frames */
  json?: [string | null, string | null, string, string, unknown];
  /** the bytes of binary frames */
  bin?: Buffer;
}

/** A `ws` WebSocket that records every frame it sends and receives into `frames`. */
export function recordingTransport(frames: Frame[]): TransportConstructor {
  let count = 0;
  const record = (dir: "in" | "out", conn: number, data: unknown, binary: boolean): void => {
    const buf = typeof data === "string" ? Buffer.from(data)
      : data instanceof ArrayBuffer ? Buffer.from(new Uint8Array(data))
      : Array.isArray(data) ? Buffer.concat(data as Buffer[]) : Buffer.from(data as Uint8Array);
    if (binary) frames.push({ dir, conn, bin: buf });
    else frames.push({ dir, conn, json: JSON.parse(buf.toString("utf8")) as Frame["json"] });
  };
  class RecordingWebSocket extends WebSocket {
    readonly conn = count++;
    constructor(address: string, protocols?: string | string[]) {
      super(address, protocols);
      this.on("message", (data: unknown, isBinary: boolean) => record("in", this.conn, data, isBinary));
    }
    override send(data: unknown, ...rest: unknown[]): void {
      record("out", this.conn, data, typeof data !== "string");
      (super.send as (...args: unknown[]) => void)(data, ...rest);
    }
  }
  return RecordingWebSocket;
}

/** The V2 text frames matching a direction, topic and event. */
export function framesOf(frames: Frame[], dir: "in" | "out", topicName: string, event?: string): Array<NonNullable<Frame["json"]>> {
  return frames.flatMap((f) => (f.dir === dir && f.json && f.json[2] === topicName && (event === undefined || f.json[3] === event) ? [f.json] : []));
}
