/**
 * A server for the fuzz test, run as a child process (`node --expose-gc`): an echo channel, a
 * presence channel, long-poll on, and `GET /heap`, which collects garbage and reports the heap
 * in use. Prints `listening <port>`.
 */
import { createServer } from "node:http";
import { attach, createPresence, defineChannel, defineSocket, ok, PubSub, silentLogger, type ChannelSocket } from "../../src/index.js";

const pubsub = new PubSub();
const presence = createPresence({ pubsub, logger: silentLogger });
const Echo = defineChannel({
  join(_topic: string, params: unknown, socket: ChannelSocket) {
    if (typeof params === "object" && params !== null && "track" in params) presence.track(socket, String((params as { track: unknown }).track), { at: 1 });
    return ok({ params });
  },
  handleIn(event: string, payload: unknown, socket: ChannelSocket) {
    if (event === "broadcast") socket.broadcast("echo", payload);
    else if (event === "push") socket.push("echo", payload);
    else if (event === "throw") throw new Error("fuzzed crash");
    return ok(payload);
  },
});
const socket = defineSocket({ connect: (params) => ({ ...params }), channels: { "room:*": Echo, "other:*": Echo } });
const server = createServer((request, response) => {
  if (request.url === "/heap") {
    (globalThis as { gc?: () => void }).gc?.();
    (globalThis as { gc?: () => void }).gc?.();
    const { heapUsed, rss } = process.memoryUsage();
    response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ heapUsed, rss, connections: endpoint.connectionCount }));
    return;
  }
  response.writeHead(404).end();
});
const endpoint = attach(server, {
  socket, pubsub, logger: silentLogger, checkOrigin: false, longpoll: { windowMs: 200 }, joinRate: false, messageRate: false,
});
server.listen(0, "127.0.0.1", () => {
  console.log(`listening ${(server.address() as { port: number }).port}`);
});
