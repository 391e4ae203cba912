/**
 * A benchmarked server as a child process — by default the conformance server: started with
 * `PORT=0` (and `LOG_LEVEL=warn`, no inherited `CINDER_*` cluster settings), ready once it
 * prints `cinder conformance listening on http://127.0.0.1:<port>` (`ready` / `readyCount`
 * change the line and how many must appear: one per cluster worker). Optionally runs under
 * `node --cpu-prof`, with extra node flags (the bench's probe preload), and with an IPC
 * channel for the probe's requests (`request`). `stop()` sends SIGTERM (so a profile is
 * written), then SIGKILL.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync } from "node:fs";

/** A running server child. */
export interface ServerChild {
  readonly pid: number;
  readonly port: number;
  readonly process: ChildProcess;
  /** Lines the server wrote on stderr (its warnings), capped. */
  readonly stderrLines: string[];
  /** Exit code or signal once it exited. */
  exited(): string | undefined;
  /** Stops it (SIGTERM, then SIGKILL after `graceMs`); resolves once it has exited. */
  stop(graceMs?: number): Promise<void>;
  /** Sends a request to the probe preload over IPC and resolves with its answer (bounded by `timeoutMs`). */
  request(cmd: string, extra?: Record<string, unknown>, timeoutMs?: number): Promise<Record<string, unknown>>;
}

/** Options for `startServer`. */
export interface StartOptions {
  script: string;
  cwd: string;
  timeoutMs: number;
  /** Write a V8 CPU profile of the child into this directory. */
  cpuProfileDir?: string;
  /** Arguments after the script (e.g. `--workers 2`). */
  args?: string[];
  /** Node flags before the script (e.g. `--expose-gc`, `--import <probe>`). */
  nodeArgs?: string[];
  /** Environment added on top of the caller's (minus its `CINDER_*` variables) and `PORT=0 LOG_LEVEL=warn`. */
  env?: Record<string, string>;
  /** The ready line; its first group is the port. Default: the conformance server's. */
  ready?: RegExp;
  /** How many ready lines to wait for (one per cluster worker). Default 1. */
  readyCount?: number;
  /** Open an IPC channel (for `request`). */
  ipc?: boolean;
  /** What to call it in messages. Default "the conformance server". */
  name?: string;
}

const LISTENING = /cinder conformance listening on http:\/\/[^:]+:(\d+)/;

/** Starts the conformance server and waits (bounded) until it listens. */
export function startServer(options: StartOptions): Promise<ServerChild> {
  const nodeArgs: string[] = [];
  if (options.cpuProfileDir !== undefined) {
    mkdirSync(options.cpuProfileDir, { recursive: true });
    nodeArgs.push("--cpu-prof", `--cpu-prof-dir=${options.cpuProfileDir}`);
  }
  nodeArgs.push(...(options.nodeArgs ?? []), options.script, ...(options.args ?? []));
  const name = options.name ?? "the conformance server";
  const ready = options.ready ?? LISTENING;
  const readyCount = options.readyCount ?? 1;
  // One plain node: no CINDER_* cluster/worker settings inherited from the caller's environment.
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("CINDER_")));
  Object.assign(env, { PORT: "0", LOG_LEVEL: "warn" }, options.env ?? {});
  const child = spawn(process.execPath, nodeArgs, {
    cwd: options.cwd, env, stdio: options.ipc === true ? ["ignore", "pipe", "pipe", "ipc"] : ["ignore", "pipe", "pipe"],
  });
  const pending = new Map<number, { resolve: (answer: Record<string, unknown>) => void; reject: (error: Error) => void }>();
  let nextRequest = 0;
  child.on("message", (message: unknown) => {
    const answer = message as Record<string, unknown>;
    const waiter = typeof answer.id === "number" ? pending.get(answer.id) : undefined;
    if (waiter === undefined) return;
    pending.delete(answer.id as number);
    if (typeof answer.error === "string") waiter.reject(new Error(`${name}: ${answer.error}`));
    else waiter.resolve(answer);
  });
  const request = (cmd: string, extra: Record<string, unknown> = {}, timeoutMs = 30_000): Promise<Record<string, unknown>> => {
    if (options.ipc !== true || !child.connected) return Promise.reject(new Error(`${name} has no IPC channel`));
    const id = ++nextRequest;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error(`${name} did not answer "${cmd}" within ${timeoutMs} ms`));
      }, timeoutMs);
      pending.set(id, {
        resolve: (answer) => { clearTimeout(timer); resolve(answer); },
        reject: (error) => { clearTimeout(timer); reject(error); },
      });
      child.send({ id, cmd, ...extra });
    });
  };

  const stderrLines: string[] = [];
  let exitText: string | undefined;
  const exitPromise = new Promise<void>((resolve) => {
    child.once("exit", (code, signal) => {
      exitText = signal !== null ? `signal ${signal}` : `code ${code}`;
      resolve();
    });
  });
  child.stderr!.setEncoding("utf8");
  let stderrRest = "";
  child.stderr!.on("data", (chunk: string) => {
    const lines = (stderrRest + chunk).split("\n");
    stderrRest = lines.pop() ?? "";
    for (const line of lines) {
      if (stderrLines.length < 200) stderrLines.push(line);
      if (stderrLines.length <= 5) process.stderr.write(`[server] ${line}\n`);
    }
  });

  return new Promise<ServerChild>((resolve, reject) => {
    let stdout = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${name} did not print ${readyCount} listening line(s) within ${options.timeoutMs} ms (stdout so far: ${JSON.stringify(stdout.slice(0, 500))})`));
    }, options.timeoutMs);
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(new Error(`could not start ${name}: ${error.message}`));
    });
    void exitPromise.then(() => {
      clearTimeout(timer);
      for (const waiter of pending.values()) waiter.reject(new Error(`${name} exited (${exitText})`));
      pending.clear();
      reject(new Error(`${name} exited (${exitText}) before listening; stderr: ${stderrLines.slice(0, 10).join("\n")}`));
    });
    child.stdout!.setEncoding("utf8");
    let listening = false;
    child.stdout!.on("data", (chunk: string) => {
      if (listening) return;
      if (stdout.length < 10_000) stdout += chunk;
      const global = new RegExp(ready.source, "g");
      const matches = [...stdout.matchAll(global)];
      if (matches.length < readyCount) return;
      const match = matches[0]!;
      listening = true;
      clearTimeout(timer);
      const port = Number(match[1]);
      resolve({
        pid: child.pid!,
        port,
        process: child,
        stderrLines,
        exited: () => exitText,
        request,
        async stop(graceMs = 5_000) {
          if (exitText !== undefined) return;
          child.kill("SIGTERM");
          const killer = setTimeout(() => child.kill("SIGKILL"), graceMs);
          await exitPromise;
          clearTimeout(killer);
        },
      });
    });
  });
}
