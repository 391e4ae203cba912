/**
 * The primary's side of one-machine mode's connection handoff: it listens on the port itself
 * (reading nothing; accept.ts) and hands each accepted connection over IPC to the worker
 * holding the fewest connections (`pickWorker`). A few handoffs at a time wait in node's queue
 * for a worker (worker-state.ts: node's queue of handles costs the primary time in the square of
 * its length); the rest wait in one queue in the primary for the least-loaded worker to have
 * room; a worker whose oldest handoff waited 100 ms is stalled (its CPU cannot keep up) and the
 * others take its turn. At most `maxWaitingPerWorker`
 * × workers wait, none longer than 5 s, and never so many that the primary itself runs out of
 * descriptors (its fd limit minus the reserve, counting the refused ones still closing): at its
 * fd limit node would accept and drop every connection in the backlog. A worker gets none before it is ready, while it drains, or once it is full (at its
 * `maxConnections`, or its fd limit minus the reserve). When no worker can take a connection
 * (none ready, all full, or the queue full or too slow) the primary answers it itself: HTTP 503
 * with `Retry-After: 1` and a plain-text body, then closes it once the client has read it (2 s
 * at most), and logs one line per 10 s counting the refusals. A handoff that fails (the worker
 * just died) closes the socket.
 */
import type { Worker } from "node:cluster";
import { createServer, type Server } from "node:net";
import { defaultMaxConnections, LogEvery, serviceUnavailable } from "../connection-limit.js";
import { acceptConnections, asSocket, type Accepted } from "./accept.js";
import { isHandoff, type ConnectionMessage } from "./handoff.js";
import { pickWorker, type NoPick } from "./pick-worker.js";
import { STALL_MS, WorkerState } from "./worker-state.js";

/** Default `maxWaiting` per worker: sockets waiting in the primary for a worker to be free. */
export const MAX_WAITING_PER_WORKER = 1_000;

/** How long a socket may wait in the primary for a free worker before it is refused (busy). */
const MAX_WAIT_MS = 5_000;

/** How long a refused socket may stay open for its client to read the 503. */
const REFUSAL_LINGER_MS = 2_000;

/** Options of `Balancer.listen`. */
export interface BalancerOptions {
  /** Port to listen on (0 for any). */
  port: number;
  /** Host to listen on; default all interfaces. */
  host?: string | undefined;
  /** Where the primary logs (one line a message). */
  log: (message: string) => void;
  /** Most sockets waiting for a free worker, per worker followed. Default 1 000. */
  maxWaitingPerWorker?: number;
}

/** The primary's listener, its queue of waiting sockets and its view of the workers. */
export class Balancer {
  private readonly workers = new Map<number, WorkerState>();
  /** Sockets waiting for a free worker, oldest first from `head`, with their arrival times. */
  private waiting: Array<{ accepted: Accepted; at: number } | undefined> = [];
  private head = 0;
  private readonly refusals = new LogEvery();
  private readonly failures = new LogEvery();
  private readonly acceptErrors = new LogEvery();
  private readonly maxWaitingPerWorker: number;
  /** The most descriptors the primary may hold for connections (0: no limit). */
  private readonly fdCap = defaultMaxConnections();
  /** Refused connections still open (the client reading the 503). */
  private refusing = 0;
  private readonly log: (message: string) => void;

  private constructor(private readonly server: Server, options: BalancerOptions) {
    this.log = options.log;
    this.maxWaitingPerWorker = options.maxWaitingPerWorker ?? MAX_WAITING_PER_WORKER;
    // Accepting can fail (EMFILE when the primary itself runs out of descriptors): log, go on.
    const failed = (reason: string): void => {
      const count = this.acceptErrors.note();
      if (count !== undefined) this.log(`primary: accepting a connection failed (${count} in the last 10 s): ${reason}`);
    };
    server.on("error", (error: Error) => failed(error.message));
    acceptConnections(server, (accepted) => this.arrive(accepted), failed);
    // Every 100 ms: refuse what waited too long, and hand on past stalled workers.
    setInterval(() => this.expire(), STALL_MS).unref();
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
      else if (message.cinder === "load") state.take(message);
      this.dispatch();
    });
    const gone = (): void => this.remove(worker.id);
    worker.once("disconnect", gone);
    worker.once("exit", gone);
  }

  /** Hands `id` no more connections (it is about to drain). */
  retire(id: number): void {
    const state = this.workers.get(id);
    if (state !== undefined) state.accepting = false;
    this.dispatch();
  }

  /** Forgets `id` (it exited). */
  remove(id: number): void {
    this.workers.get(id)?.dropAll();
    this.workers.delete(id);
    this.dispatch();
  }

  /** Stops accepting and refuses the waiting sockets; connections already handed over stay with their workers. */
  close(): void {
    for (const state of this.workers.values()) state.accepting = false;
    this.server.close();
    this.dispatch();
  }

  private get waitingCount(): number {
    return this.waiting.length - this.head;
  }

  private arrive(accepted: Accepted): void {
    if (this.waitingCount === 0) {
      // The common case: nothing waits, so a free worker takes it at once (no queue entry).
      const pick = pickWorker(this.workers.values());
      if (pick.ok) {
        this.hand(this.workers.get(pick.id)!, accepted);
        return;
      }
      if (pick.reason !== "wait") {
        this.refuse(accepted, pick);
        return;
      }
    }
    const held = this.waitingCount + this.refusing;
    if (this.waitingCount >= this.maxWaitingPerWorker * Math.max(1, this.workers.size) || (this.fdCap > 0 && held >= this.fdCap)) {
      this.refuse(accepted, { ok: false, reason: "busy", open: 0, max: 0 });
      return;
    }
    this.waiting.push({ accepted, at: performance.now() });
    this.dispatch();
  }

  /** Hands waiting sockets to free workers while there are both; refuses them when no worker can take one. */
  private dispatch(): void {
    while (this.waitingCount > 0) {
      const pick = pickWorker(this.workers.values());
      if (!pick.ok && pick.reason === "wait") break;
      const { accepted } = this.waiting[this.head]!;
      this.waiting[this.head++] = undefined;
      if (!pick.ok) this.refuse(accepted, pick);
      else this.hand(this.workers.get(pick.id)!, accepted);
    }
    if (this.head > 1_024 && this.head * 2 > this.waiting.length) {
      this.waiting = this.waiting.slice(this.head);
      this.head = 0;
    }
  }

  /** Refuses the sockets that waited longer than `MAX_WAIT_MS` (every worker is behind), and hands on past stalled workers. */
  private expire(): void {
    const now = performance.now();
    if (this.waitingCount === 0) return;
    const oldest = now - MAX_WAIT_MS;
    while (this.waitingCount > 0 && this.waiting[this.head]!.at < oldest) {
      const { accepted } = this.waiting[this.head]!;
      this.waiting[this.head++] = undefined;
      this.refuse(accepted, { ok: false, reason: "busy", open: 0, max: 0 });
    }
    this.dispatch();
  }

  private hand(state: WorkerState, accepted: Accepted): void {
    state.sending(accepted);
    const message: ConnectionMessage = { cinder: "connection" };
    // node:child_process sends a native TCP handle as it does a net.Socket (a handle of the message).
    state.worker.send(message, accepted as never, (error: Error | null) => {
      // Written (the one before it arrived: room for one more), or never (the worker's channel
      // closed, it exited: the client gets a close).
      if (!state.written(accepted, error)) return;
      if (error === null) {
        this.dispatch();
        return;
      }
      const count = this.failures.note();
      if (count !== undefined) this.log(`primary: handing a connection to worker ${state.id} failed (${count} in the last 10 s): ${error.message}`);
      this.dispatch();
    });
  }

  private refuse(accepted: Accepted, pick: NoPick): void {
    const body = refusalBody(pick);
    const socket = asSocket(accepted);
    // Read (and drop) what the client sent, so closing does not turn into a reset that loses the 503.
    socket.on("error", () => socket.destroy());
    socket.on("data", () => {});
    socket.resume();
    socket.end(serviceUnavailable(body));
    const linger = setTimeout(() => socket.destroy(), REFUSAL_LINGER_MS);
    this.refusing++;
    socket.once("close", () => {
      this.refusing--;
      clearTimeout(linger);
    });
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
    case "busy": return "server busy: no worker could take the connection in time; retry shortly\n";
    case "no-worker": return "server not ready: no worker is taking connections (starting or restarting); retry shortly\n";
  }
}
