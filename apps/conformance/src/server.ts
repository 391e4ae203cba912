/**
 * The protocol conformance server: a small server built only on Cinder's public API that
 * implements the conformance contract (apps/conformance/test/README.md). `npm run conformance`
 * starts it on PORT (default 4001); `POST /broadcast` `{topic, event, payload}` broadcasts from
 * outside any channel; `GET /metrics` answers Prometheus metrics. Logs are pino JSON lines at
 * `LOG_LEVEL` (default warn). It prints `cinder conformance listening on <url>` once it listens.
 *
 * Cluster: with `CINDER_REDIS_URL` it joins the cluster on that Redis as `CINDER_NODE_NAME`;
 * `--workers N` (or `CINDER_WORKERS`) runs N processes on this port joined by Redis (default
 * redis://127.0.0.1:6379 when no URL is given); `CINDER_REDIS_NAMESPACE` prefixes its Redis
 * channels (default "cinder"); `CINDER_CLUSTER_SECRET` signs long-poll tokens alike on every node
 * (set it on every node of a multi-host cluster); `CINDER_LONGPOLL_WINDOW_MS` sets the long-poll
 * window (default 10 s; idle sessions are reaped 1.5–3 windows after their last poll).
 * Join and message rate limits are off unless `CINDER_RATE_LIMITS=1`; every other limit keeps
 * its default. On SIGTERM it drains: clients are told to reconnect (1012) in batches over
 * `CINDER_DRAIN_WINDOW_MS` (2 s), channels terminate, and presence leaves the cluster at once.
 * `CINDER_PRESENCE_BROADCAST_MS`, `CINDER_PRESENCE_DOWN_MS` and `CINDER_PRESENCE_GRACE_MS` (the
 * leave grace of online/offline) shorten the presence timings (for tests). `GET /presence/events`
 * answers the online/offline hook calls this node made, in order: `[{kind, topic, key, at}]`.
 * `CINDER_BIG_ROOM` (JSON `BigRoomOptions`, e.g. `{"threshold":1000,"sampleSize":50}`) makes
 * `presence:big:*` topics big rooms (docs/presence.md "Big rooms"); bad JSON or options stop the
 * server with the reason.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { pino } from "pino";
import { attach, createPresence, defineSocket, PubSub, refuse, resolveBigRoom, type BigRoomOptions } from "@cinder/server";
import { createMetrics } from "@cinder/metrics";
import { serve, type NodeInfo, type Service } from "@cinder/server/node";
import { RedisAdapter, redisOptionsFromEnv } from "@cinder/redis";
import { EchoChannel, StreamChannel, type EchoAssigns } from "./echo-channel.js";
import { conformanceFetch, presenceChannel } from "./presence-channel.js";

const MAX_BODY = 1024 * 1024;

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        reject(new Error("body too large"));
        request.destroy();
        return;
      }
      chunks.push(chunk);
    });
    request.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    request.on("error", reject);
  });
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
}

function numberFromEnv(name: string): number | undefined {
  const value = process.env[name];
  return value === undefined || value === "" ? undefined : Number(value);
}

/** The big-room options of `presence:big:*` topics from `CINDER_BIG_ROOM`, or undefined; throws on bad JSON. */
function bigRoomFromEnv(): BigRoomOptions | undefined {
  const text = process.env.CINDER_BIG_ROOM;
  if (text === undefined || text === "") return undefined;
  let options: BigRoomOptions;
  try {
    options = JSON.parse(text) as BigRoomOptions;
  } catch {
    throw new Error(`CINDER_BIG_ROOM must be JSON big-room options (got ${JSON.stringify(text)})`);
  }
  const checked = resolveBigRoom(options);
  if (!checked.ok) throw new Error(`CINDER_BIG_ROOM: ${checked.message}`);
  return checked.policy;
}

/** The conformance service; `node` is its cluster node name when it joined a cluster. */
type ConformanceService = Service & { node: string | undefined };

function start({ workerId, clustered }: NodeInfo): ConformanceService {
  const logger = pino({ name: "conformance", level: process.env.LOG_LEVEL ?? "warn" });
  const redis = redisOptionsFromEnv(process.env, clustered ? "redis://127.0.0.1:6379" : undefined);
  const baseName = process.env.CINDER_NODE_NAME;
  const nodeName = baseName !== undefined && workerId !== undefined ? `${baseName}-w${workerId}` : baseName;
  const adapter = redis === undefined ? undefined
    : new RedisAdapter({ ...redis, logger, ...(nodeName !== undefined ? { nodeName } : {}) });
  const pubsub = new PubSub({
    adapter, onSubscriberError: (err, topic) => logger.error({ err, topic }, "subscriber failed"),
    ...(adapter !== undefined ? { history: adapter.history() } : {}),
    onHistoryError: (err, topic) => logger.error({ err, topic }, "stream publication not recorded; dropped"),
  });
  const broadcastPeriodMs = numberFromEnv("CINDER_PRESENCE_BROADCAST_MS");
  const downPeriodMs = numberFromEnv("CINDER_PRESENCE_DOWN_MS");
  const leaveGraceMs = numberFromEnv("CINDER_PRESENCE_GRACE_MS");
  // The hook calls `GET /presence/events` answers; the first 10,000 only, so a bench's storm of
  // members does not grow it without bound.
  const onlineEvents: Array<{ kind: "online" | "offline"; topic: string; key: string; at: number }> = [];
  const recordOnline = (kind: "online" | "offline", topic: string, key: string): void => {
    if (onlineEvents.length < 10_000) onlineEvents.push({ kind, topic, key, at: Date.now() });
  };
  const bigRoom = bigRoomFromEnv();
  const presence = createPresence({
    pubsub, logger, fetch: conformanceFetch,
    onOnline: (topic, key) => recordOnline("online", topic, key),
    onOffline: (topic, key) => recordOnline("offline", topic, key),
    ...(leaveGraceMs !== undefined ? { leaveGraceMs } : {}),
    ...(bigRoom !== undefined ? { bigRoom: (topic: string) => (topic.startsWith("presence:big:") ? bigRoom : undefined) } : {}),
    ...(broadcastPeriodMs !== undefined ? { broadcastPeriodMs } : {}),
    ...(downPeriodMs !== undefined ? { downPeriodMs } : {}),
  });

  const socket = defineSocket<EchoAssigns>({
    connect(params) {
      if (params.token === "bad") return refuse(403);
      return { user: typeof params.user === "string" ? params.user : "anon" };
    },
    id(socket) {
      return socket.assigns.user === "anon" ? null : `user_socket:${socket.assigns.user}`;
    },
    channels: {
      "echo:*": EchoChannel,
      "stream:*": StreamChannel,
      "presence:*": presenceChannel(presence),
    },
  });

  const metrics = createMetrics({ presence });
  const server = createServer((request, response) => {
    if (request.method === "GET" && request.url === "/metrics") {
      metrics.handler(request, response);
      return;
    }
    if (request.method === "GET" && request.url === "/presence/events") {
      sendJson(response, 200, onlineEvents);
      return;
    }
    if (request.method === "POST" && request.url === "/broadcast") {
      readBody(request).then((text) => {
        let body: unknown;
        try {
          body = JSON.parse(text);
        } catch {
          return sendJson(response, 400, { error: "body must be JSON" });
        }
        const { topic, event, payload } = (body ?? {}) as Record<string, unknown>;
        if (typeof topic !== "string" || typeof event !== "string") {
          return sendJson(response, 400, { error: "topic and event must be strings" });
        }
        endpoint.broadcast(topic, event, payload ?? {});
        response.writeHead(204).end();
      }, () => sendJson(response, 413, { error: "body too large" }));
      return;
    }
    sendJson(response, 404, { error: "not found" });
  });

  const secret = process.env.CINDER_CLUSTER_SECRET;
  const windowMs = numberFromEnv("CINDER_LONGPOLL_WINDOW_MS");
  const rateLimits = process.env.CINDER_RATE_LIMITS === "1" ? {} : { joinRate: false as const, messageRate: false as const };
  const endpoint = attach(server, {
    path: "/socket", socket, pubsub, checkOrigin: false, logger, ...rateLimits,
    longpoll: { ...(secret !== undefined ? { secret } : {}), ...(windowMs !== undefined ? { windowMs } : {}) },
  });

  metrics.observe(endpoint);

  return {
    server,
    node: adapter === undefined ? undefined : pubsub.nodeName,
    async drain() {
      await endpoint.drain(numberFromEnv("CINDER_DRAIN_WINDOW_MS") ?? 2_000);
      await presence.close();
      await pubsub.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

await serve({
  start,
  port: Number(process.env.PORT ?? 4001),
  host: process.env.HOST ?? "127.0.0.1",
  banner: (port, service) => `cinder conformance listening on http://127.0.0.1:${port}${service.node === undefined ? "" : ` as node ${service.node}`}`,
});
