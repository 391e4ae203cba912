/**
 * Test support: a real Cinder server (WebSocket + long-poll + presence) started in-process on a
 * free port, with the channels the client tests talk to, and bounded-wait helpers.
 *
 * - `room:*`: join echoes `{topic, params}`; `{reject: true}` → error `{reason: "rejected"}`;
 *   `{delay_ms}` delays the join reply. Events: `ping` (ok, payload), `error_reply`,
 *   `custom_status` ("queued"), `noreply`, `crash` (throws), `stop`, `push` (→ `pushed`),
 *   `broadcast` (→ `broadcasted`), `binary_push` / `binary_broadcast` (the bytes back as a push /
 *   broadcast `bin`), `binary_ack` (ok `{size, hex}` of the bytes), `disconnect_me`. Any other
 *   binary payload is answered with the same bytes (a binary reply). Handled events are recorded.
 * - `presence:*`: after the join, pushes `presence_state` and tracks the connection's user with
 *   meta `{name, ...params.meta}`; `update_meta` updates it.
 */
import { createServer, type IncomingMessage, type ServerResponse, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import {
  attach, createPresence, defineChannel, defineSocket, error, ok, PubSub, refuse, reply, silentLogger, stop,
  type ChannelSocket, type Endpoint, type EndpointOptions,
} from "@cinder/server";

export const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `cond` every 5 ms until true, or throws after `ms`. */
export async function waitUntil(cond: () => boolean, ms: number, desc: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for: ${desc}`);
    await delay(5);
  }
}

/** Races a promise against a timeout. */
export function within<T>(promise: Promise<T>, ms: number, desc: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for: ${desc}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** What the server saw of one connect. */
export interface ConnectRecord {
  params: Record<string, unknown>;
  authToken: string | undefined;
  transport: string;
}

/** What the server saw of one join. */
export interface JoinRecord {
  topic: string;
  joinRef: string;
  params: unknown;
}

/** An event a `room:*` channel handled. */
export interface EventRecord {
  topic: string;
  event: string;
  payload: unknown;
}

/** A running test server. */
export interface TestServer {
  server: Server;
  endpoint: Endpoint;
  /** `ws://127.0.0.1:<port>/socket` */
  socketUrl: string;
  /** `http://127.0.0.1:<port>` */
  httpUrl: string;
  connects: ConnectRecord[];
  joins: JoinRecord[];
  /** Binary payloads received by `room:*` channels. */
  binaries: Buffer[];
  /** Every event `room:*` channels handled. */
  events: EventRecord[];
  close(): Promise<void>;
}

type Assigns = { user: string };

interface RoomParams {
  reject?: boolean;
  delay_ms?: number;
  [key: string]: unknown;
}

/** Starts a test server; `handler` answers plain HTTP requests (404 by default). */
export async function startServer(options: Partial<EndpointOptions> & {
  handler?: (req: IncomingMessage, res: ServerResponse) => void;
} = {}): Promise<TestServer> {
  const connects: ConnectRecord[] = [];
  const joins: JoinRecord[] = [];
  const binaries: Buffer[] = [];
  const events: EventRecord[] = [];
  const pubsub = options.pubsub ?? new PubSub();
  // `bigpresence:*` topics are big rooms from 4 connections on (sample of 2, counts every 100 ms).
  const presence = createPresence({
    pubsub, logger: silentLogger, diffWindowMs: 0,
    bigRoom: (topic) => (topic.startsWith("bigpresence:") ? { threshold: 4, leaveBelow: 3, sampleSize: 2, countIntervalMs: 100 } : undefined),
  });
  let endpoint: Endpoint | undefined;

  const Room = defineChannel({
    async join(topic: string, params: RoomParams, socket: ChannelSocket<Assigns>) {
      joins.push({ topic, joinRef: socket.joinRef, params });
      if (typeof params.delay_ms === "number") await delay(params.delay_ms);
      if (params.reject === true) return error({ reason: "rejected" });
      return ok({ topic, params });
    },
    handleIn(event: string, payload: unknown, socket: ChannelSocket<Assigns>) {
      events.push({ topic: socket.topic, event, payload });
      if (payload instanceof Uint8Array) {
        const bytes = Buffer.from(payload);
        binaries.push(bytes);
        if (event === "binary_ack") return ok({ size: bytes.length, hex: bytes.toString("hex") });
        if (event === "binary_push") socket.push("bin", bytes);
        if (event === "binary_broadcast") socket.broadcast("bin", bytes);
        return ok(bytes);
      }
      switch (event) {
        case "ping": return ok(payload);
        case "error_reply": return error(payload);
        case "custom_status": return reply("queued", payload);
        case "noreply": return undefined;
        case "crash": throw new Error("crash requested by the test");
        case "stop": return stop("normal");
        case "push": socket.push("pushed", payload); return ok();
        case "broadcast": socket.broadcast("broadcasted", payload); return ok();
        case "disconnect_me": endpoint?.disconnect(`user_socket:${socket.assigns.user}`); return ok();
        default: return error({ reason: "unknown event", event });
      }
    },
  });

  const PresenceRoom = defineChannel({
    join(_topic: string, params: { meta?: Record<string, unknown> }, socket: ChannelSocket<Assigns>) {
      joins.push({ topic: socket.topic, joinRef: socket.joinRef, params });
      socket.assign({ meta: params.meta ?? {} } as Partial<Assigns>);
      socket.send("after_join");
      return ok();
    },
    async handleInfo(message: unknown, socket: ChannelSocket<Assigns>) {
      if (message !== "after_join") return;
      if (socket.topic.startsWith("bigpresence:")) await presence.pushState(socket);
      else socket.push("presence_state", await presence.list(socket.topic));
      const extra = (socket.assigns as Record<string, unknown>).meta as Record<string, unknown>;
      presence.track(socket, socket.assigns.user, { name: socket.assigns.user, ...extra });
    },
    handleIn(event: string, payload: unknown, socket: ChannelSocket<Assigns>) {
      if (event === "update_meta") {
        presence.update(socket, socket.assigns.user, { name: socket.assigns.user, ...(payload as object) });
        return ok();
      }
      if (event === "crash") throw new Error("crash requested by the test");
      return error({ reason: "unknown event" });
    },
  });

  const socket = defineSocket<Assigns>({
    connect(params, info) {
      connects.push({ params, authToken: info.authToken, transport: info.transport });
      if (params.token === "bad") return refuse(403);
      if (params.no_ws === "1" && info.transport === "websocket") return refuse(403);
      return { user: typeof params.user === "string" ? params.user : "anon" };
    },
    id: (s) => (s.assigns.user === "anon" ? null : `user_socket:${s.assigns.user}`),
    channels: { "room:*": Room, "presence:*": PresenceRoom, "bigpresence:*": PresenceRoom },
  });

  const { handler = (_req: IncomingMessage, res: ServerResponse) => { res.writeHead(404).end(); }, ...endpointOptions } = options;
  const server = createServer(handler);
  endpoint = attach(server, { logger: silentLogger, checkOrigin: false, longpoll: true, ...endpointOptions, pubsub, socket });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  const ep = endpoint;
  return {
    server,
    endpoint: ep,
    socketUrl: `ws://127.0.0.1:${port}/socket`,
    httpUrl: `http://127.0.0.1:${port}`,
    connects,
    joins,
    binaries,
    events,
    async close() {
      await ep.close();
      await presence.close(false);
      if (options.pubsub === undefined) await pubsub.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
