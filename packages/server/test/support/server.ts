/** Test support: starts a real HTTP server with a Cinder endpoint on a free port. */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { attach, silentLogger, type Endpoint, type EndpointOptions } from "../../src/index.js";

/** A running test server. */
export interface TestServer {
  server: Server;
  endpoint: Endpoint;
  /** `ws://127.0.0.1:<port>/socket` */
  socketUrl: string;
  /** `ws://127.0.0.1:<port>/socket/websocket` */
  websocketUrl: string;
  port: number;
  close(): Promise<void>;
}

/** Starts an HTTP server on 127.0.0.1 with an endpoint attached (silent logs unless given). */
export async function startServer(options: EndpointOptions): Promise<TestServer> {
  const server = createServer((_req, res) => res.writeHead(404).end());
  const endpoint = attach(server, { logger: silentLogger, checkOrigin: false, ...options });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    server,
    endpoint,
    port,
    socketUrl: `ws://127.0.0.1:${port}/socket`,
    websocketUrl: `ws://127.0.0.1:${port}/socket/websocket`,
    async close() {
      await endpoint.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Starts servers for one test file and closes them all when asked (call `closeAll` in `after`). */
export function serverPool(base: EndpointOptions): {
  start(options?: Partial<EndpointOptions>): Promise<TestServer>;
  closeAll(): Promise<void>;
} {
  const running: TestServer[] = [];
  return {
    async start(options = {}) {
      const server = await startServer({ ...base, ...options });
      running.push(server);
      return server;
    },
    async closeAll() {
      await Promise.all(running.map((server) => server.close()));
    },
  };
}
