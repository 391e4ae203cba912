/**
 * The floor of the scale scenario: bare `ws` on `--workers N` node:cluster workers (one port,
 * round-robin accept in the primary, as for Cinder and Socket.IO), joined by plain Redis
 * PUBLISH / SUBSCRIBE (ioredis; `REDIS_URL`, default redis://127.0.0.1:6379; one channel,
 * `<WS_REDIS_KEY>:broadcast`, default key "ws") when N > 1. The least an app on `ws` does for
 * the scenario's three jobs:
 *
 * - `{"op":"sub","topic":T}` subscribes the connection → `{"op":"subbed","topic":T}`;
 * - a Phoenix heartbeat `[join_ref, ref, "phoenix", "heartbeat", {}]` (what the load sends every
 *   client, Phoenix's keep-alive) is parsed and answered with its `phx_reply`, so idle CPU
 *   compares like for like;
 * - `POST /broadcast {topic, data}` (to whichever worker accepts it) publishes once to Redis;
 *   each worker encodes `data` once and `ws.send`s the same bytes to every local subscriber.
 *
 * `PORT` (0), `HOST` (127.0.0.1). Each worker prints `bench ws listening on http://127.0.0.1:<port>`.
 */
import { createServer } from "node:http";
import { Redis } from "ioredis";
import { WebSocketServer, type WebSocket } from "ws";
import { broadcastEndpoint, isPrimaryOf, runPrimary, serveWorker, workersFlag } from "./cluster-node.js";

const workers = workersFlag();
if (isPrimaryOf(workers)) runPrimary(workers, "ws");
else worker(workers > 1);

const TEXT = { binary: false } as const;

function worker(clustered: boolean): void {
  const topics = new Map<string, Set<WebSocket>>();
  const deliver = (topic: string, bytes: Buffer): void => {
    const set = topics.get(topic);
    if (set !== undefined) for (const ws of set) ws.send(bytes, TEXT);
  };
  const channel = `${process.env.WS_REDIS_KEY ?? "ws"}:broadcast`;
  let publish = (topic: string, data: unknown): void => deliver(topic, Buffer.from(JSON.stringify(data)));
  let close = (): void => {};
  if (clustered) {
    const pub = new Redis(process.env.REDIS_URL ?? "redis://127.0.0.1:6379");
    const sub = pub.duplicate();
    void sub.subscribe(channel);
    // The message is `<topic>\n<data JSON>`: split once, the data's bytes sent as they are.
    sub.on("messageBuffer", (_channel: Buffer, message: Buffer) => {
      const newline = message.indexOf(0x0a);
      if (newline > 0) deliver(message.toString("utf8", 0, newline), message.subarray(newline + 1));
    });
    publish = (topic, data) => void pub.publish(channel, `${topic}\n${JSON.stringify(data)}`);
    close = () => { pub.disconnect(); sub.disconnect(); };
  }
  const server = createServer(broadcastEndpoint((topic, data) => publish(topic, data)));
  const wss = new WebSocketServer({ server, perMessageDeflate: false, clientTracking: false });
  wss.on("connection", (ws) => {
    const joined: string[] = [];
    ws.on("message", (data: Buffer, isBinary: boolean) => {
      if (isBinary) return;
      let message: unknown;
      try {
        message = JSON.parse(data.toString("utf8"));
      } catch {
        ws.close(1007, "not JSON");
        return;
      }
      if (Array.isArray(message)) {
        if (message[2] === "phoenix" && message[3] === "heartbeat") {
          ws.send(JSON.stringify([null, message[1], "phoenix", "phx_reply", { status: "ok", response: {} }]));
        }
        return;
      }
      const { op, topic } = message as { op?: unknown; topic?: unknown };
      if (op !== "sub" || typeof topic !== "string") {
        ws.send('{"op":"error","reason":"unknown op"}');
        return;
      }
      let set = topics.get(topic);
      if (set === undefined) topics.set(topic, (set = new Set()));
      set.add(ws);
      joined.push(topic);
      ws.send(JSON.stringify({ op: "subbed", topic }));
    });
    ws.on("error", () => {});
    ws.on("close", () => {
      for (const topic of joined) topics.get(topic)?.delete(ws);
    });
  });
  serveWorker(server, "ws", close, clustered);
}
