/**
 * How the load process speaks to each server with raw `ws` clients, leanly (no client library
 * per connection, so one load process can hold 20,000 of them): the URL, the subscribe frames,
 * a cheap classification of incoming frames by their first bytes, and the publish frame.
 *
 * - Cinder: Phoenix V2 JSON arrays; a subscription is a `phx_join` of `echo:<topic>`, a publish
 *   is the `echo` channel's `broadcast_from` push (every subscriber but the publisher gets
 *   `[null,null,"echo:<topic>","broadcasted",payload]`).
 *   With `--history` the topics are `stream:<topic>` instead (the same channel with history on:
 *   each broadcast is recorded and carries its position as the ref, `[null,"<epoch>:<n>",...]`).
 * - Socket.IO: Engine.IO 4 / Socket.IO 5 packets over the WebSocket transport (`40` connect,
 *   `42[...]` events, `43<id>[...]` acks, `2` ping → `3` pong), exactly what socket.io-client
 *   sends with `transports: ["websocket"]`; the publisher uses socket.io-client itself.
 * - ws: the bare broadcaster's `{"op":...}` JSON (see servers/ws-server.ts).
 *
 * Every delivered payload starts `{"t":<send time, ms>,` so the receiver reads the stamp with
 * one `indexOf` and no JSON.parse.
 */

/** The three servers. */
export type ServerId = "cinder" | "socketio" | "ws";

/** What an incoming frame is. */
export enum Kind {
  Other = 0,
  /** A broadcast delivery (carries a `{"t":` stamp). */
  Delivery = 1,
  /** A subscription acknowledged. */
  Ack = 2,
  /** The server pings; answer with `pong`. */
  Ping = 3,
  /** The protocol handshake finished (Socket.IO's `40`); send the subscribe frames now. */
  Handshake = 4,
  /** A refusal (join error, connect error). */
  Refused = 5,
}

/** One server's wire dialect, as the raw clients use it. */
export interface Dialect {
  readonly id: ServerId;
  /** Path and query of a connection (`user` adds a user parameter). */
  path(user?: string): string;
  /** Sent on open before anything else (Socket.IO: `40`); subscriptions wait for `Kind.Handshake` then. */
  readonly handshake: string | undefined;
  /** The frames that subscribe one connection to `topics` (join refs 1..n). */
  subscribeFrames(topics: readonly string[]): string[];
  /** Classifies an incoming text frame. */
  classify(data: Buffer): Kind;
  /** A publish frame for `topic` from a connection subscribed to it as the `joinIndex`-th topic (1-based). */
  publishFrame(topic: string, payloadJson: string, ref: number, joinIndex: number): string;
  /** A keep-alive frame the client must send now and then (Cinder's heartbeat: the server closes silent sockets after 60 s). */
  readonly heartbeat: string | undefined;
  /** The answer to a `Kind.Ping`. */
  readonly pong: string | undefined;
  /** Most topics one connection may subscribe to (Cinder: 100 channels per connection). */
  readonly maxTopicsPerConnection: number;
}

const OPEN_BRACKET = 0x5b; // [
const OPEN_BRACE = 0x7b; // {
const QUOTE = 0x22; // "
const LETTER_N = 0x6e; // n

const BROADCASTED = Buffer.from('"broadcasted"');
const PHX_REPLY = Buffer.from('"phx_reply"');
const STATUS_OK = Buffer.from('"status":"ok"');

/** The Cinder channel the bench joins: `echo:` (plain) or `stream:` (history on, `--history`). */
let cinderPrefix = "echo:";

/** Makes the Cinder dialect join stream topics (`stream:<topic>`, history on) instead of plain ones. */
export function useCinderStreams(on: boolean): void {
  cinderPrefix = on ? "stream:" : "echo:";
}

export const cinderDialect: Dialect = {
  id: "cinder",
  path: (user) => `/socket/websocket?vsn=2.0.0${user !== undefined ? `&user=${encodeURIComponent(user)}` : ""}`,
  handshake: undefined,
  subscribeFrames: (topics) => topics.map((topic, i) => `["${i + 1}","${i + 1}",${JSON.stringify(`${cinderPrefix}${topic}`)},"phx_join",{}]`),
  classify(data) {
    if (data[0] !== OPEN_BRACKET) return Kind.Other;
    // [null,null,"echo:…","broadcasted",{…}]: a broadcast (no join_ref, no ref).
    if (data[1] === LETTER_N && data[6] === LETTER_N) return data.indexOf(BROADCASTED) > 0 ? Kind.Delivery : Kind.Other;
    // [null,"<epoch>:<n>","stream:…","broadcasted",{…}]: a broadcast with its stream position.
    if (data[1] === LETTER_N && data[6] === QUOTE && data.indexOf(BROADCASTED) > 0) return Kind.Delivery;
    // ["1","1","echo:…","phx_reply",{"status":"ok",…}]: a join reply (heartbeat replies start [null,).
    if (data[1] === QUOTE && data.indexOf(PHX_REPLY) > 0) return data.indexOf(STATUS_OK) > 0 ? Kind.Ack : Kind.Refused;
    return Kind.Other;
  },
  publishFrame: (topic, payloadJson, ref, joinIndex) =>
    `["${joinIndex}","${ref}",${JSON.stringify(`${cinderPrefix}${topic}`)},"broadcast_from",${payloadJson}]`,
  heartbeat: '[null,"hb","phoenix","heartbeat",{}]',
  pong: undefined,
  maxTopicsPerConnection: 100,
};

const SIO_EVENT_M = Buffer.from('42["m",');

export const socketIoDialect: Dialect = {
  id: "socketio",
  path: (user) => `/socket.io/?EIO=4&transport=websocket${user !== undefined ? `&user=${encodeURIComponent(user)}` : ""}`,
  handshake: "40",
  subscribeFrames: (topics) => topics.map((topic, i) => `42${i}["sub",${JSON.stringify(topic)}]`),
  classify(data) {
    const first = data[0];
    if (first === 0x34 /* 4 */) {
      const second = data[1];
      if (second === 0x32 /* 2 */) return data.compare(SIO_EVENT_M, 0, SIO_EVENT_M.length, 0, SIO_EVENT_M.length) === 0 ? Kind.Delivery : Kind.Other;
      if (second === 0x33 /* 3 */) return Kind.Ack;
      if (second === 0x30 /* 0 */) return Kind.Handshake;
      if (second === 0x34 /* 4: connect error */) return Kind.Refused;
      return Kind.Other;
    }
    if (first === 0x32 /* 2 */ && data.length === 1) return Kind.Ping;
    return Kind.Other;
  },
  publishFrame: (topic, payloadJson) => `42["pub",${JSON.stringify(topic)},${payloadJson}]`,
  heartbeat: undefined,
  pong: "3",
  maxTopicsPerConnection: Infinity,
};

const WS_SUBBED = Buffer.from('{"op":"subbed"');
const WS_STAMP = Buffer.from('{"t":');

export const wsDialect: Dialect = {
  id: "ws",
  path: (user) => `/${user !== undefined ? `?user=${encodeURIComponent(user)}` : ""}`,
  handshake: undefined,
  subscribeFrames: (topics) => topics.map((topic) => `{"op":"sub","topic":${JSON.stringify(topic)}}`),
  classify(data) {
    if (data[0] !== OPEN_BRACE) return Kind.Other;
    if (data.compare(WS_STAMP, 0, WS_STAMP.length, 0, WS_STAMP.length) === 0) return Kind.Delivery;
    if (data.compare(WS_SUBBED, 0, WS_SUBBED.length, 0, WS_SUBBED.length) === 0) return Kind.Ack;
    return Kind.Other;
  },
  publishFrame: (topic, payloadJson) => `{"op":"pub","topic":${JSON.stringify(topic)},"data":${payloadJson}}`,
  heartbeat: undefined,
  pong: undefined,
  maxTopicsPerConnection: Infinity,
};

/** The dialect of a server. */
export function dialectOf(id: ServerId): Dialect {
  return id === "cinder" ? cinderDialect : id === "socketio" ? socketIoDialect : wsDialect;
}

const STAMP = Buffer.from('{"t":');

/**
 * The send time stamped in a delivered frame (`{"t":123.456,`), or NaN. Reads only the few
 * bytes after the first `{"t":`.
 */
export function readStamp(data: Buffer): number {
  const at = data.indexOf(STAMP);
  if (at < 0) return NaN;
  const start = at + STAMP.length;
  let value = 0;
  let scale = 0;
  for (let i = start; i < data.length; i++) {
    const c = data[i]!;
    if (c >= 0x30 && c <= 0x39) {
      value = value * 10 + (c - 0x30);
      if (scale > 0) scale *= 10;
    } else if (c === 0x2e /* . */ && scale === 0) {
      scale = 1;
    } else {
      break;
    }
  }
  return scale > 0 ? value / scale : value;
}

const PAD = "x".repeat(1 << 20);

/**
 * A payload object of exactly `size` bytes as JSON: `{"t":<now ms, 3 decimals>,"s":<seq>,"p":"xxx…"}`
 * (at least the stamp and sequence when `size` is smaller than that).
 */
export function stampedPayload(size: number, seq: number): { t: number; s: number; p: string } {
  const t = Math.round(performance.now() * 1000) / 1000;
  const head = JSON.stringify({ t, s: seq, p: "" }).length;
  return { t, s: seq, p: PAD.slice(0, Math.max(0, size - head)) };
}
