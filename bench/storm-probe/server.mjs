// The phoenix.js storm probe's server: the conformance presence channel on an endpoint (PORT, MAXBUF = maxBufferedBytes). See README.md.
import { createServer } from "node:http";
import { attach, createPresence, defineSocket, PubSub } from "../../packages/server/dist/src/index.js";
import { presenceChannel, conformanceFetch } from "../../apps/conformance/dist/src/presence-channel.js";
import pino from "pino";
const logger = pino({ level: process.env.LOG_LEVEL ?? "warn" });
const pubsub = new PubSub({});
const presence = createPresence({ pubsub, logger, fetch: conformanceFetch });
const socket = defineSocket({
  connect(params) { return { user: String(params.user ?? "anon") }; },
  channels: { "presence:*": presenceChannel(presence) },
});
const server = createServer((_q, r) => r.writeHead(404).end());
attach(server, { path: "/socket", socket, pubsub, checkOrigin: false, logger, joinRate: false, messageRate: false,
  ...(process.env.MAXBUF ? { maxBufferedBytes: Number(process.env.MAXBUF) } : {}) });
server.listen(Number(process.env.PORT ?? 4555), "127.0.0.1", () => console.log("ready"));
