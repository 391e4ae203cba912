/**
 * The bootstrap every Cinder server process shares: one-machine mode (`--workers N`), listening,
 * the start-up line, and a graceful drain on SIGTERM / SIGINT (the service's `drain`, bounded by
 * a timeout, then exit). The app builds its own server, PubSub (with any cluster adapter),
 * presence and metrics in `start`; this module knows nothing about Redis.
 */
import type { Server } from "node:http";
import { serverArgs, type ServerArgs } from "./args.js";
import { forkWorkers } from "./workers.js";

/** Which process `start` runs in. */
export interface NodeInfo {
  /** The worker's id in one-machine mode; undefined in a single process. */
  workerId: number | undefined;
  /** True when this process is one of several workers sharing the port (a cluster adapter is needed). */
  clustered: boolean;
}

/** A started service, ready to listen. */
export interface Service {
  /** The HTTP server to listen on. */
  server: Server;
  /** Graceful shutdown (the endpoint's `drain`, then closing presence, PubSub, stores). */
  drain(): Promise<void>;
}

/** Options of `serve`. */
export interface ServeOptions<S extends Service = Service> {
  /** Builds the service in each server process. */
  start(node: NodeInfo): S | Promise<S>;
  /** Port to listen on (0 for any). */
  port: number;
  /** Host to listen on; default all interfaces. */
  host?: string | undefined;
  /** The start-up line printed on stdout once listening, given the bound port and the service. */
  banner(port: number, service: S): string;
  /** The command line; default `serverArgs()` (`--workers`, `CINDER_WORKERS`, `--accept`, `CINDER_ACCEPT`; a bad one: its message on stderr, exit code 2). */
  args?: ServerArgs;
  /** Exit anyway this long after a stop signal if the drain has not finished. Default 15 000 ms. */
  stopTimeoutMs?: number;
}

/**
 * Runs a server process: in the primary of one-machine mode forks the workers and returns
 * undefined; otherwise builds the service, listens, prints the banner, and drains on SIGTERM /
 * SIGINT before exiting. Returns the service.
 */
export async function serve<S extends Service>(options: ServeOptions<S>): Promise<S | undefined> {
  let args: ServerArgs;
  try {
    args = options.args ?? serverArgs();
  } catch (error) {
    // A bad command line: its one-line reason, not a stack trace.
    console.error((error as Error).message);
    process.exit(2);
  }
  const role = forkWorkers(args.workers, console.error, args.accept);
  if (role.role === "primary") return undefined;
  const workerId = role.role === "worker" ? role.id : undefined;
  const service = await options.start({ workerId, clustered: role.role === "worker" });
  service.server.listen(options.port, options.host, () => {
    const address = service.server.address();
    const port = typeof address === "object" && address !== null ? address.port : options.port;
    console.log(options.banner(port, service));
  });
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    setTimeout(() => process.exit(0), options.stopTimeoutMs ?? 15_000).unref();
    service.drain().then(() => process.exit(0), (error: unknown) => {
      console.error("drain failed", error);
      process.exit(1);
    });
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
  return service;
}
