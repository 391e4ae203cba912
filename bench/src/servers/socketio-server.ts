/**
 * Socket.IO 4 with its defaults (in-memory adapter, rooms for topics), WebSocket transport
 * only. Events:
 *
 * - `sub(topic, ack)` joins the room and acks `"ok"`;
 * - `pub(topic, data)` → `socket.to(topic).emit("m", data)` (every room member but the sender,
 *   like Phoenix's `broadcast_from`; Socket.IO encodes the packet and its WebSocket frame once);
 * - `pjoin(topic)` is naive presence (no CRDT, single node; the user is the `user` query
 *   parameter): the joiner gets `pstate([keys])`, every other member `pdiff({j: key, n})` when
 *   the key was not present; when a key's last connection goes, everyone gets `pdiff({l: key, n})`.
 *
 * `BENCH_SIO_RECOVERY=1` turns on `connectionStateRecovery` (2 min, the default; the recovery scenario).
 * `PORT` (default 0), `HOST` (127.0.0.1). Prints `bench socket.io listening on http://127.0.0.1:<port>`.
 */
import { createServer } from "node:http";
import { Server } from "socket.io";
import { serveWorker } from "../scale/cluster-node.js";

const presence = new Map<string, Map<string, number>>();
let seq = 0;

const server = createServer((_request, response) => response.writeHead(404).end());
const io = new Server(server, { transports: ["websocket"], serveClient: false, perMessageDeflate: false, cors: { origin: "*" },
  ...(process.env.BENCH_SIO_RECOVERY === "1" ? { connectionStateRecovery: { maxDisconnectionDuration: 2 * 60_000, skipMiddlewares: true } } : {}),
});

io.on("connection", (socket) => {
  const query = socket.handshake.query.user;
  const user = typeof query === "string" ? query : "anon";
  let joined: string | undefined;

  socket.on("sub", (topic: unknown, ack: unknown) => {
    if (typeof topic !== "string") return;
    void socket.join(topic);
    if (typeof ack === "function") (ack as (answer: string) => void)("ok");
  });

  socket.on("pub", (topic: unknown, data: unknown) => {
    if (typeof topic === "string") socket.to(topic).emit("m", data);
  });

  socket.on("pjoin", (topic: unknown) => {
    if (typeof topic !== "string" || joined !== undefined) return;
    const room = `presence:${topic}`;
    joined = room;
    let keys = presence.get(room);
    if (keys === undefined) presence.set(room, (keys = new Map()));
    const count = keys.get(user) ?? 0;
    keys.set(user, count + 1);
    void socket.join(room);
    socket.emit("pstate", [...keys.keys()]);
    if (count === 0) socket.to(room).emit("pdiff", { j: user, n: ++seq });
  });

  socket.on("disconnect", () => {
    if (joined === undefined) return;
    const keys = presence.get(joined);
    if (keys === undefined) return;
    const count = (keys.get(user) ?? 1) - 1;
    if (count > 0) {
      keys.set(user, count);
      return;
    }
    keys.delete(user);
    io.to(joined).emit("pdiff", { l: user, n: ++seq });
    if (keys.size === 0) presence.delete(joined);
  });
});

serveWorker(server, "socket.io", () => void io.close(), false);
