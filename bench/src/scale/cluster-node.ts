/**
 * What the scale scenario's peer servers (socketio-cluster.ts, ws-cluster.ts) share: the
 * `--workers N` flag, a node:cluster primary that forks N workers on one port (the primary
 * accepts and hands connections round-robin) and stops them all on SIGTERM / SIGINT, and a
 * worker's listen, ready line and shutdown. Cinder's own servers use packages/server's `serve`.
 */
import cluster from "node:cluster";
import type { IncomingMessage, RequestListener, Server } from "node:http";
import { serverArgs } from "@cinder/server/node";

/** `--workers N` (default 1; `CINDER_WORKERS` is not read), by `serverArgs`; exits with status 2 and its message on a bad value. */
export function workersFlag(): number {
  try {
    return serverArgs(process.argv.slice(2), {}).workers;
  } catch (error) {
    console.error((error as Error).message);
    process.exit(2);
  }
}

/** True when this process should fork `workers` workers rather than serve. */
export function isPrimaryOf(workers: number): boolean {
  return workers > 1 && cluster.isPrimary;
}

/** In the primary: forks `workers` workers, logs the ones that exit on their own, and on SIGTERM / SIGINT stops them all, then exits 0. */
export function runPrimary(workers: number, label: string): void {
  for (let i = 0; i < workers; i++) cluster.fork();
  let stopping = false;
  cluster.on("exit", (worker, code, signal) => {
    if (!stopping) console.error(`${label} worker ${worker.process.pid} exited (${signal ?? code})`);
    else if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
  });
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill("SIGTERM");
    setTimeout(() => process.exit(0), 500).unref();
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

/**
 * In a worker (or the one process): listens on `PORT` (0) and `HOST` (127.0.0.1), prints
 * `bench <label> listening on http://127.0.0.1:<port>`, and on SIGTERM / SIGINT runs `close`
 * and exits 0; a worker whose primary is gone (SIGKILLed) exits too.
 */
export function serveWorker(server: Server, label: string, close: () => void, clustered: boolean): void {
  const shutdown = (): void => {
    close();
    process.exit(0);
  };
  process.on("SIGTERM", shutdown);
  process.on("SIGINT", shutdown);
  if (clustered) process.on("disconnect", () => process.exit(0));
  server.listen(Number(process.env.PORT ?? 0), process.env.HOST ?? "127.0.0.1", () => {
    const address = server.address();
    const port = typeof address === "object" && address !== null ? address.port : 0;
    console.log(`bench ${label} listening on http://127.0.0.1:${port}`);
  });
}

/** Reads a request body of at most 1 MiB as text. */
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

/** The HTTP side of a peer server: `POST /broadcast {topic, data}` calls `broadcast` and answers 204; anything else 404, a bad body 400. */
export function broadcastEndpoint(broadcast: (topic: string, data: unknown) => void): RequestListener {
  return (request, response) => {
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
      broadcast(body.topic, body.data);
      response.writeHead(204).end();
    }, () => response.writeHead(413).end());
  };
}
