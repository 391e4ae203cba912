/**
 * `npm start`: the apps on PORT (default 4000). `--workers N` (or `CINDER_WORKERS`) runs N
 * processes on the port joined by Redis (`CINDER_REDIS_URL`, default redis://127.0.0.1:6379);
 * SIGHUP to the primary restarts the workers one at a time. On SIGTERM each process drains:
 * clients are told to reconnect (1012) over `CINDER_DRAIN_WINDOW_MS` (default 5 s).
 */
import { serve } from "@cinder/server/node";
import { createApp } from "./app.js";
import { loadConfig } from "./config.js";

const config = loadConfig();
await serve({
  async start({ workerId, clustered }) {
    if (clustered) config.redisUrl ??= "redis://127.0.0.1:6379";
    const app = await createApp(config, workerId !== undefined ? { nodeName: `apps-${process.pid}-w${workerId}` } : {});
    return { server: app.server, drain: () => app.drain(Number(process.env.CINDER_DRAIN_WINDOW_MS ?? 5_000)) };
  },
  port: config.port,
  host: config.host,
  banner: (port) => `cinder apps listening on http://localhost:${port}`,
});
