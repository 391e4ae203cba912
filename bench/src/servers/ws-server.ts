/**
 * The floor: a bare `ws` broadcaster, the least any framework on `ws` pays. One process, a
 * `Map<topic, Set<WebSocket>>`, JSON text frames:
 *
 * - `{"op":"sub","topic":T}` subscribes → `{"op":"subbed","topic":T}`;
 * - `{"op":"pub","topic":T,"data":D}` encodes `D` once (JSON, then UTF-8 bytes) and `ws.send`s
 *   the same bytes as a text frame to every subscriber of T but the sender (like Phoenix's
 *   `broadcast_from`);
 * - `{"op":"join","topic":T}` is naive presence (no CRDT, single node; the connection's user
 *   is the `user` query parameter): the joiner gets `{"op":"state","members":[keys]}`, every
 *   other member `{"op":"join","key":K,"n":seq}` when K was not present; when K's last
 *   connection closes, everyone gets `{"op":"leave","key":K,"n":seq}`. One frame per change to
 *   every member: the naive M·(M−1)/2 at join.
 *
 * `PORT` (default 0), `HOST` (127.0.0.1). Prints `bench ws listening on http://127.0.0.1:<port>`.
 */
import { createServer } from "node:http";
import { WebSocketServer, type WebSocket } from "ws";

interface Connection {
  topics: string[];
  user: string;
  presence: string | undefined;
}

const topics = new Map<string, Set<WebSocket>>();
const presence = new Map<string, { members: Set<WebSocket>; keys: Map<string, number> }>();
const connections = new WeakMap<WebSocket, Connection>();
let seq = 0;

function subscribe(ws: WebSocket, topic: string): void {
  let set = topics.get(topic);
  if (set === undefined) topics.set(topic, (set = new Set()));
  set.add(ws);
}

const TEXT = { binary: false } as const;

/** Sends the same bytes (encoded once by the caller) to every member but `except`. */
function broadcast(set: Set<WebSocket>, bytes: Buffer, except: WebSocket | undefined): void {
  for (const member of set) if (member !== except) member.send(bytes, TEXT);
}

function encode(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value), "utf8");
}

function presenceJoin(ws: WebSocket, connection: Connection, topic: string): void {
  let room = presence.get(topic);
  if (room === undefined) presence.set(topic, (room = { members: new Set(), keys: new Map() }));
  room.members.add(ws);
  connection.presence = topic;
  const count = room.keys.get(connection.user) ?? 0;
  room.keys.set(connection.user, count + 1);
  ws.send(JSON.stringify({ op: "state", members: [...room.keys.keys()] }));
  if (count === 0) broadcast(room.members, encode({ op: "join", key: connection.user, n: ++seq }), ws);
}

function presenceLeave(ws: WebSocket, connection: Connection): void {
  const topic = connection.presence;
  const room = topic === undefined ? undefined : presence.get(topic);
  if (room === undefined) return;
  room.members.delete(ws);
  const count = (room.keys.get(connection.user) ?? 1) - 1;
  if (count > 0) {
    room.keys.set(connection.user, count);
    return;
  }
  room.keys.delete(connection.user);
  broadcast(room.members, encode({ op: "leave", key: connection.user, n: ++seq }), undefined);
  if (room.members.size === 0) presence.delete(topic!);
}

const server = createServer((_request, response) => response.writeHead(404).end());
const wss = new WebSocketServer({ server, perMessageDeflate: false, clientTracking: false });

wss.on("connection", (ws, request) => {
  const user = new URL(request.url ?? "/", "http://x").searchParams.get("user") ?? "anon";
  const connection: Connection = { topics: [], user, presence: undefined };
  connections.set(ws, connection);
  ws.on("message", (data: Buffer, isBinary: boolean) => {
    if (isBinary) return;
    let message: { op?: unknown; topic?: unknown; data?: unknown };
    try {
      message = JSON.parse(data.toString("utf8")) as typeof message;
    } catch {
      ws.close(1007, "not JSON");
      return;
    }
    const topic = typeof message.topic === "string" ? message.topic : "";
    switch (message.op) {
      case "pub": {
        const set = topics.get(topic);
        if (set !== undefined) broadcast(set, encode(message.data), ws);
        break;
      }
      case "sub":
        subscribe(ws, topic);
        connection.topics.push(topic);
        ws.send(JSON.stringify({ op: "subbed", topic }));
        break;
      case "join":
        presenceJoin(ws, connection, topic);
        break;
      default:
        ws.send(JSON.stringify({ op: "error", reason: "unknown op" }));
    }
  });
  ws.on("error", () => {});
  ws.on("close", () => {
    for (const topic of connection.topics) {
      const set = topics.get(topic);
      if (set === undefined) continue;
      set.delete(ws);
      if (set.size === 0) topics.delete(topic);
    }
    presenceLeave(ws, connection);
  });
});

server.listen(Number(process.env.PORT ?? 0), process.env.HOST ?? "127.0.0.1", () => {
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : 0;
  console.log(`bench ws listening on http://127.0.0.1:${port}`);
});

const shutdown = (): void => {
  server.close();
  process.exit(0);
};
process.on("SIGTERM", shutdown);
process.on("SIGINT", shutdown);
