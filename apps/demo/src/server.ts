/**
 * `npm start`: the apps on PORT (default 4000). `--workers N` (or `CINDER_WORKERS`) runs N
 * processes on the port joined by Redis (`CINDER_REDIS_URL`, default redis://127.0.0.1:6379).
 */
import { forkWorkers, workersFromArgs } from "@cinder/redis";
import { createApp } from "./app.js";
import { loadConfig } from "./config.js";

const role = forkWorkers(workersFromArgs());
if (role.role !== "primary") {
  const config = loadConfig();
  if (role.role === "worker") config.redisUrl ??= "redis://127.0.0.1:6379";
  const app = await createApp(config, role.role === "worker" ? { nodeName: `apps-${process.pid}-w${role.id}` } : {});
  app.server.listen(config.port, config.host, () => {
    const address = app.server.address();
    const port = typeof address === "object" && address !== null ? address.port : config.port;
    console.log(`cinder apps listening on http://localhost:${port}`);
  });
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    const windowMs = Number(process.env.CINDER_DRAIN_WINDOW_MS ?? 5_000);
    setTimeout(() => process.exit(0), windowMs + 10_000).unref();
    void app.drain(windowMs).then(() => process.exit(0));
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}
