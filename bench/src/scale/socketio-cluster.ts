/**
 * Socket.IO 4 for the scale scenario: `--workers N` (default 1) node:cluster workers on one port
 * (the primary accepts and hands connections round-robin, as Cinder's `--workers` does), joined
 * by `@socket.io/redis-adapter` on ioredis (`REDIS_URL`, default redis://127.0.0.1:6379; its
 * channels prefixed `SIO_REDIS_KEY`, default "socket.io") when N > 1. WebSocket transport only,
 * so no sticky sessions are needed. Events: `sub(topic, ack)` joins room `topic` and acks "ok".
 * `POST /broadcast` `{topic, data}` (to whichever worker accepts it) emits `m(data)` to the room
 * on every worker. `PORT` (0), `HOST` (127.0.0.1). Each worker prints
 * `bench socket.io listening on http://127.0.0.1:<port>`.
 */
import { createServer } from "node:http";
import { createAdapter } from "@socket.io/redis-adapter";
import { Redis } from "ioredis";
import { Server } from "socket.io";
import { broadcastEndpoint, isPrimaryOf, runPrimary, serveWorker, workersFlag } from "./cluster-node.js";

const workers = workersFlag();
if (isPrimaryOf(workers)) runPrimary(workers, "socket.io");
else worker(workers > 1);

function worker(clustered: boolean): void {
  const server = createServer(broadcastEndpoint((topic, data) => io.to(topic).emit("m", data)));
  const io = new Server(server, { transports: ["websocket"], serveClient: false, perMessageDeflate: false, cors: { origin: "*" } });
  if (clustered) {
    const pub = new Redis(process.env.REDIS_URL ?? "redis://127.0.0.1:6379");
    const sub = pub.duplicate();
    io.adapter(createAdapter(pub, sub, { key: process.env.SIO_REDIS_KEY ?? "socket.io" }));
  }
  io.on("connection", (socket) => {
    socket.on("sub", (topic: unknown, ack: unknown) => {
      if (typeof topic !== "string") return;
      void socket.join(topic);
      if (typeof ack === "function") (ack as (answer: string) => void)("ok");
    });
  });
  serveWorker(server, "socket.io", () => void io.close(), clustered);
}
