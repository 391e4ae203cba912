// The clients under test: phoenix.js (the official `phoenix` package) and @cinder/client, with
// phoenix.js's API, over a recording WebSocket or LongPoll (recording.ts); the transports and
// clients a run covers (CINDER_CONFORMANCE_TRANSPORTS, CINDER_CONFORMANCE_CLIENTS); and the
// entry point of the per-client test files (clientSuite).

import { test } from "node:test";
import * as phoenix from "phoenix";
import type { Channel, Push, SocketOptions } from "phoenix";
import * as cinder from "@cinder/client";
import { PollGate, recordingLongPoll, recordingTransport } from "./recording.js";
import { onCleanup, serverExit, useServer, type ServerInfo } from "./servers.js";
import { short, waitUntil, within } from "./util.js";
import { WireLog } from "./wire-log.js";

/**
 * The names listed in the environment variable `variable` (comma separated), in `all`'s order, or
 * all of them when it is unset or empty. Throws on a name not in `all`.
 */
function selected<T extends string>(variable: string, all: readonly T[], what: string): readonly T[] {
  const wanted = (process.env[variable] ?? "").split(",").map((s) => s.trim()).filter((s) => s !== "");
  if (wanted.length === 0) return all;
  for (const w of wanted) if (!all.includes(w as T)) throw new Error(`${variable}: unknown ${what} ${w} (${all.join(", ")})`);
  return all.filter((v) => wanted.includes(v));
}

/** The transports the client-driven scenarios run over. */
export type Via = "websocket" | "longpoll";

/**
 * Every transport, or those listed in CINDER_CONFORMANCE_TRANSPORTS (comma separated, e.g.
 * `longpoll`). Scenarios that use a client loop over this list.
 */
export const transports: readonly Via[] = selected("CINDER_CONFORMANCE_TRANSPORTS", ["websocket", "longpoll"], "transport");

/**
 * Close codes a client reports when the server ends its connection through a `"disconnect"` on
 * the socket id: WebSocket 1001; long-poll 3410 `session_gone` (a GET answered 410 while the client
 * holds a token) or 1011 (the client's own POST that triggered it was answered `{"status":410}`).
 */
export function serverDropCodes(via: Via): number[] {
  return via === "websocket" ? [1001] : [3410, 1011];
}

/** The clients the client-driven scenarios run with. */
export type ClientName = "phoenix" | "cinder";

/**
 * A client with phoenix.js 1.8's API. `@cinder/client`'s classes are typed here with the
 * suite's phoenix typings (phoenix.d.ts): the scenarios use the API both clients share.
 */
export interface Client {
  readonly name: ClientName;
  /** how messages name it: "phoenix.js" or "@cinder/client" */
  readonly label: string;
  readonly Socket: typeof phoenix.Socket;
  readonly LongPoll: typeof phoenix.LongPoll;
  readonly Presence: typeof phoenix.Presence;
}

/** The two clients under test, by name. */
export const CLIENTS: Readonly<Record<ClientName, Client>> = {
  phoenix: { name: "phoenix", label: "phoenix.js", Socket: phoenix.Socket, LongPoll: phoenix.LongPoll, Presence: phoenix.Presence },
  cinder: {
    name: "cinder",
    label: "@cinder/client",
    Socket: cinder.Socket as unknown as typeof phoenix.Socket,
    LongPoll: cinder.LongPoll as unknown as typeof phoenix.LongPoll,
    Presence: cinder.Presence as unknown as typeof phoenix.Presence,
  },
};

/**
 * Every client, or those listed in CINDER_CONFORMANCE_CLIENTS (comma separated: `phoenix`,
 * `cinder`). The per-client test files of a client that is not listed register one skipped test.
 */
export const clients: readonly ClientName[] = selected("CINDER_CONFORMANCE_CLIENTS", ["phoenix", "cinder"], "client");

/**
 * The body of a per-client test file (`<area>.<client>.test.ts`): when `name` is one of the
 * selected `clients`, starts the file's server (useServer) and registers the area's client-driven
 * scenarios for that client; otherwise registers one skipped test saying so (no server).
 */
export function clientSuite(name: ClientName, scenarios: (client: Client) => void): void {
  if (!clients.includes(name)) {
    test(`${scenarios.name} [${name}]`, { skip: `${name} is not in CINDER_CONFORMANCE_CLIENTS=${process.env.CINDER_CONFORMANCE_CLIENTS}` }, () => {});
    return;
  }
  useServer();
  scenarios(CLIENTS[name]);
}


/** Options of phxSocket(): the client's Socket options plus which client, transport and whether to connect. */
export interface PhxOptions extends SocketOptions {
  /** the client: phoenix.js or @cinder/client (CLIENTS.phoenix / CLIENTS.cinder) */
  client: Client;
  /** connect right away (default true) */
  connect?: boolean;
  /** the transport: a recording `ws` WebSocket (default) or a recording subclass of the client's LongPoll */
  via?: Via;
}

/** A client socket under test with its wire log. */
export interface Phx {
  socket: phoenix.Socket;
  log: WireLog;
  via: Via;
  client: Client;
  /** holds/releases LongPoll polls (long-poll only) */
  polls: PollGate;
}

/**
 * A Socket of the given client (phoenix.js or @cinder/client) over a recording ws or LongPoll
 * transport, registered for cleanup after the test.
 */
export function phxSocket(server: ServerInfo, opts: PhxOptions): Phx {
  const log = new WireLog();
  const polls = new PollGate();
  const { client, connect = true, via = "websocket", ...rest } = opts;
  const transport = via === "longpoll" ? recordingLongPoll(log, polls, client.LongPoll) : recordingTransport(log);
  const socket = new client.Socket(server.socket, { transport, timeout: 3000, ...rest });
  onCleanup(() => new Promise<void>((r) => {
    const t = setTimeout(r, 500);
    socket.disconnect(() => { clearTimeout(t); r(); });
    polls.release();
  }));
  if (connect) socket.connect();
  return { socket, log, via, client, polls };
}

/** Connects (if needed) and waits until the socket is open. */
export async function connected(phx: Phx, ms = 3000): Promise<void> {
  await waitUntil(() => phx.socket.isConnected(), ms, `${phx.client.label} socket to be connected`,
    () => { const exit = serverExit(); return `${phx.log.dump()}${exit ? `\n${exit}` : ""}`; });
}

/** The status that fired on a Push and its response. */
export interface Outcome { status: string; response: any }

/** Resolves with the first of the given statuses to fire on a Push. */
export function outcome(push: Push, ms = 3000, statuses: string[] = ["ok", "error", "timeout", "queued"], detail?: () => string): Promise<Outcome> {
  return within(new Promise<Outcome>((r) => {
    for (const status of statuses) push.receive(status, (response) => r({ status, response }));
  }), ms, `a reply (${statuses.join("/")})`, detail);
}

/** Joins and asserts "ok"; returns the response. */
export async function joinOk(phx: Phx, channel: Channel, ms = 3000): Promise<any> {
  const o = await outcome(channel.join(), ms, undefined, () => phx.log.dump());
  if (o.status !== "ok") throw new Error(`join ${channel.topic} expected ok, got ${o.status} ${short(o.response)}\n${phx.log.dump()}`);
  return o.response;
}

/** Resolves with the payload of the next `event` on the channel. */
export function nextEvent(phx: Phx, channel: Channel, event: string, ms = 3000): Promise<any> {
  return within(new Promise<any>((r) => {
    const ref = channel.on(event, (payload) => { channel.off(event, ref); r(payload); });
  }), ms, `event "${event}" on ${channel.topic}`, () => phx.log.dump());
}

