/**
 * Password hashing on dedicated worker threads. scrypt through `crypto.scrypt` runs on libuv's
 * shared thread pool (4 threads), which also serves file reads — the static assets — and DNS: a
 * sign-in flood kept those waiting behind hashes. Here each hash runs `scryptSync` inside a
 * worker thread of its own, so the pool stays free; at most `size` workers exist (created on
 * demand, one hash at a time each), and the caller's `Limiter` (HASH_CONCURRENCY) bounds how many
 * hashes are in flight. An idle worker does not keep the process alive.
 */
import { Worker } from "node:worker_threads";

/** The parameters of one scrypt computation. */
export interface ScryptJob {
  password: string;
  salt: Uint8Array;
  keylen: number;
  N: number;
  r: number;
  p: number;
  maxmem: number;
}

/** The worker's code (CommonJS, evaluated: no file to locate from `src` or `dist`). */
const WORKER_SOURCE = `
const { parentPort } = require("node:worker_threads");
const { scryptSync } = require("node:crypto");
parentPort.on("message", (job) => {
  try {
    const key = scryptSync(job.password, job.salt, job.keylen, { N: job.N, r: job.r, p: job.p, maxmem: job.maxmem });
    parentPort.postMessage({ key });
  } catch (error) {
    parentPort.postMessage({ error: error instanceof Error ? error.message : String(error) });
  }
});
`;

interface Slot {
  worker: Worker;
  busy: boolean;
}

/** A small pool of hashing threads. */
export class HashWorkers {
  private readonly slots: Slot[] = [];

  /** At most `size` threads (raised with HASH_CONCURRENCY; never lowered below what exists). */
  constructor(public size: number) {}

  /** How many threads exist now. */
  get threads(): number {
    return this.slots.length;
  }

  /** Computes scrypt on a free thread (a new one if none is free and the pool may grow). */
  scrypt(job: ScryptJob): Promise<Buffer> {
    const slot = this.slots.find((s) => !s.busy) ?? (this.slots.length < Math.max(1, this.size) ? this.spawn() : undefined);
    if (slot === undefined) return Promise.reject(new Error(`all ${this.slots.length} hashing threads are busy`));
    slot.busy = true;
    slot.worker.ref(); // a hash in flight keeps the process alive (the CLI awaits one)
    return new Promise<Buffer>((resolve, reject) => {
      const settle = (): void => {
        slot.worker.off("message", onMessage).off("error", onError);
        slot.busy = false;
        slot.worker.unref();
      };
      const onMessage = (answer: { key?: Uint8Array; error?: string }): void => {
        settle();
        if (answer.key !== undefined) resolve(Buffer.from(answer.key.buffer, answer.key.byteOffset, answer.key.byteLength));
        else reject(new Error(answer.error ?? "scrypt failed"));
      };
      const onError = (error: Error): void => {
        settle();
        this.drop(slot);
        reject(error);
      };
      slot.worker.on("message", onMessage).on("error", onError);
      slot.worker.postMessage(job);
    });
  }

  /** Stops every thread. */
  async close(): Promise<void> {
    const slots = this.slots.splice(0);
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }

  private spawn(): Slot {
    const worker = new Worker(WORKER_SOURCE, { eval: true });
    worker.unref();
    const slot: Slot = { worker, busy: false };
    worker.on("exit", () => this.drop(slot));
    this.slots.push(slot);
    return slot;
  }

  private drop(slot: Slot): void {
    const index = this.slots.indexOf(slot);
    if (index !== -1) this.slots.splice(index, 1);
  }
}
