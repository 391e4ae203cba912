/**
 * The primary's side of one-machine mode's connection handoff: it listens on the port itself
 * (`pauseOnConnect`, so it reads nothing) and hands each accepted socket over IPC to the worker
 * holding the fewest connections (`pickWorker`), counting the ones on their way to a worker as
 * its load until the worker reports them received. A worker gets none before it is ready, while
 * it drains, once it is full (at its `maxConnections`, or its fd limit minus the reserve), or
 * while `maxPending` handoffs to it are unacknowledged (its CPU cannot keep up). When no worker
 * can take a connection the primary answers it itself: HTTP 503 with `Retry-After: 1` and a
 * plain-text body, then closes it once the client has read it (2 s at most), and logs one line
 * per 10 s counting the refusals. A handoff that fails (the worker just died) closes the socket.
 */
import type { Worker } from "node:cluster";
import { createServer, type Server, type Socket } from "node:net";
import { LogEvery, serviceUnavailable } from "../connection-limit.js";
import { isHandoff, type ConnectionMessage, type LoadMessage } from "./handoff.js";
import { pickWorker, type NoPick, type WorkerLoad } from "./pick-worker.js";

/** Default `maxPending`: unacknowledged handoffs a worker may have before it gets no more. */
export const DEFAULT_MAX_PENDING = 1_000;

/** How long a refused socket may stay open for its client to read the 503. */
const REFUSAL_LINGER_MS = 2_000;

/** Options of `listenForWorkers`. */
export interface BalancerOptions {
  /** Port to listen on (0 for any). */
  port: number;
  /** Host to listen on; default all interfaces. */
  host?: string | undefined;
  /** Where the primary logs (one line a message). */
  log: (message: string) => void;
  /** Unacknowledged handoffs a worker may have before it gets no more. Default 1 000. */
  maxPending?: number;
}

/** What the primary knows of one worker. */
class WorkerState implements WorkerLoad {
  /** Sockets handed over since the worker started. */
  sent = 0;
  /** The worker's last report. */
  report: LoadMessage = { cinder: "load", held: 0, received: 0, max: 0, full: false };
  accepting = false;

  constructor(readonly worker: Worker) {}

  get id(): number {
    return this.worker.id;
  }

  /** Handoffs the worker has not reported received. */
  get pending(): number {
    return this.sent - this.report.received;
  }

  get open(): number {
    return this.report.held + this.pending;
  }

  get max(): number {
    return this.report.max;
  }

  get full(): boolean {
    return this.report.full;
  }
}

/** The primary's listener and its view of the workers. */
export class Balancer {
  private readonly workers = new Map<number, WorkerState>();
  private readonly refusals = new LogEvery();
  private readonly failures = new LogEvery();
  private readonly acceptErrors = new LogEvery();
  private readonly maxPending: number;
  private readonly log: (message: string) => void;

  private constructor(private readonly server: Server, options: BalancerOptions) {
    this.log = options.log;
    this.maxPending = options.maxPending ?? DEFAULT_MAX_PENDING;
    server.on("connection", (socket: Socket) => this.hand(socket));
    // Accepting can fail (EMFILE when the primary itself runs out of descriptors): log, go on.
    server.on("error", (error: Error) => {
      const count = this.acceptErrors.note();
      if (count !== undefined) this.log(`primary: accepting a connection failed (${count} in the last 10 s): ${error.message}`);
    });
  }

  /** Binds the port; rejects when it cannot (e.g. EADDRINUSE). */
  static listen(options: BalancerOptions): Promise<Balancer> {
    const server = createServer({ pauseOnConnect: true });
    return new Promise((resolve, reject) => {
      server.once("error", reject);
      server.listen(options.port, options.host, () => {
        server.off("error", reject);
        resolve(new Balancer(server, options));
      });
    });
  }

  /** The bound port. */
  get port(): number {
    const address = this.server.address();
    return typeof address === "object" && address !== null ? address.port : 0;
  }

  /** Follows `worker`: it gets connections once it says it is ready, until it drains or exits. */
  add(worker: Worker): void {
    const state = new WorkerState(worker);
    this.workers.set(worker.id, state);
    worker.on("message", (message: unknown) => {
      if (!isHandoff(message)) return;
      if (message.cinder === "ready") state.accepting = true;
      else if (message.cinder === "draining") state.accepting = false;
      else if (message.cinder === "load") state.report = message;
    });
    const gone = (): void => this.remove(worker.id);
    worker.once("disconnect", gone);
    worker.once("exit", gone);
  }

  /** Hands `id` no more connections (it is about to drain). */
  retire(id: number): void {
    const state = this.workers.get(id);
    if (state !== undefined) state.accepting = false;
  }

  /** Forgets `id` (it exited). */
  remove(id: number): void {
    this.workers.delete(id);
  }

  /** Stops accepting; connections already handed over stay with their workers. */
  close(): void {
    for (const state of this.workers.values()) state.accepting = false;
    this.server.close();
  }

  private hand(socket: Socket): void {
    const pick = pickWorker(this.workers.values(), this.maxPending);
    if (!pick.ok) {
      this.refuse(socket, pick);
      return;
    }
    const state = this.workers.get(pick.id);
    if (state === undefined) { socket.destroy(); return; } // cannot happen: the pick is one of `workers`
    state.sent++;
    const message: ConnectionMessage = { cinder: "connection" };
    state.worker.send(message, socket, (error: Error | null) => {
      if (error === null) return;
      // Never received: the worker's channel closed (it exited). The client gets a close.
      state.sent--;
      socket.destroy();
      const count = this.failures.note();
      if (count !== undefined) this.log(`primary: handing a connection to worker ${state.id} failed (${count} in the last 10 s): ${error.message}`);
    });
  }

  private refuse(socket: Socket, pick: NoPick): void {
    const body = refusalBody(pick);
    // Read (and drop) what the client sent, so closing does not turn into a reset that loses the 503.
    socket.on("error", () => socket.destroy());
    socket.on("data", () => {});
    socket.resume();
    socket.end(serviceUnavailable(body));
    const linger = setTimeout(() => socket.destroy(), REFUSAL_LINGER_MS);
    socket.once("close", () => clearTimeout(linger));
    const count = this.refusals.note();
    if (count !== undefined) {
      this.log(`primary: connection refused (503, ${pick.reason}): ${body.trim()} — ${count} refused since the last such line (at most one per 10 s)`);
    }
  }
}

/** The plain-text body of the primary's 503 for `pick`. */
export function refusalBody(pick: NoPick): string {
  switch (pick.reason) {
    case "full": return `server full: every worker holds its limit (${pick.open} of ${pick.max} connections); retry shortly\n`;
    case "busy": return "server busy: every worker is behind on taking connections; retry shortly\n";
    case "no-worker": return "server not ready: no worker is taking connections (starting or restarting); retry shortly\n";
  }
}
