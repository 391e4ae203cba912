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
import cluster from "node:cluster";
import { createServer, type IncomingMessage } from "node:http";
import { parseArgs } from "node:util";
import { createAdapter } from "@socket.io/redis-adapter";
import { Redis } from "ioredis";
import { Server } from "socket.io";

const { values } = parseArgs({ options: { workers: { type: "string", default: "1" } } });
const workers = Number(values.workers);
if (!Number.isInteger(workers) || workers < 1) {
  console.error(`--workers must be a positive integer, got ${JSON.stringify(values.workers)}`);
  process.exit(2);
}

if (workers > 1 && cluster.isPrimary) {
  for (let i = 0; i < workers; i++) cluster.fork();
  let stopping = false;
  cluster.on("exit", (worker, code, signal) => {
    if (!stopping) console.error(`socket.io worker ${worker.process.pid} exited (${signal ?? code})`);
  });
  const stop = (): void => {
    stopping = true;
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill("SIGTERM");
    setTimeout(() => process.exit(0), 500).unref();
    cluster.on("exit", () => { if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0); });
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
} else {
  await worker(workers > 1);
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = "";
    request.setEncoding("utf8");
    request.on("data", (chunk: string) => {
      text += chunk;
      if (text.length > 1 << 20) request.destroy(new Error("body too large"));
    });
    request.on("end", () => resolve(text));
    request.on("error", reject);
  });
}

async function worker(clustered: boolean): Promise<void> {
  const server = createServer((request, response) => {
    if (request.method !== "POST" || request.url !== "/broadcast") {
      response.writeHead(404).end();
      return;
    }
    readBody(request).then((text) => {
      let body: { topic?: unknown; data?: unknown };
      try {
        body = JSON.parse(text) as typeof body;
      } catch {
        response.writeHead(400).end("body must be JSON");
        return;
      }
      if (typeof body.topic !== "string") {
        response.writeHead(400).end("topic must be a string");
        return;
      }
      io.to(body.topic).emit("m", body.data);
      response.writeHead(204).end();
    }, () => response.writeHead(413).end());
  });
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
  server.listen(Number(process.env.PORT ?? 0), process.env.HOST ?? "127.0.0.1", () => {
    const address = server.address();
    const port = typeof address === "object" && address !== null ? address.port : 0;
    console.log(`bench socket.io listening on http://127.0.0.1:${port}`);
  });
  const shutdown = (): void => {
    void io.close();
    process.exit(0);
  };
  process.on("SIGTERM", shutdown);
  process.on("SIGINT", shutdown);
  // A worker whose primary is gone (SIGKILLed) exits too.
  if (clustered) process.on("disconnect", () => process.exit(0));
}
