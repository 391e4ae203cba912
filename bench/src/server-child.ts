/**
 * The conformance server as a child process: started with `PORT=0` (and `LOG_LEVEL=warn`, no
 * inherited `CINDER_*` cluster settings),
 * ready once it prints `cinder conformance listening on http://127.0.0.1:<port>`. Optionally
 * runs under `node --cpu-prof`; `stop()` sends SIGTERM (so a profile is written), then SIGKILL.
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
}

/** Options for `startServer`. */
export interface StartOptions {
  script: string;
  cwd: string;
  timeoutMs: number;
  /** Write a V8 CPU profile of the child into this directory. */
  cpuProfileDir?: string;
}

const LISTENING = /cinder conformance listening on http:\/\/[^:]+:(\d+)/;

/** Starts the conformance server and waits (bounded) until it listens. */
export function startServer(options: StartOptions): Promise<ServerChild> {
  const nodeArgs: string[] = [];
  if (options.cpuProfileDir !== undefined) {
    mkdirSync(options.cpuProfileDir, { recursive: true });
    nodeArgs.push("--cpu-prof", `--cpu-prof-dir=${options.cpuProfileDir}`);
  }
  nodeArgs.push(options.script);
  // One plain node: no CINDER_* cluster/worker settings inherited from the caller's environment.
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("CINDER_")));
  Object.assign(env, { PORT: "0", LOG_LEVEL: "warn" });
  const child = spawn(process.execPath, nodeArgs, { cwd: options.cwd, env, stdio: ["ignore", "pipe", "pipe"] });

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
      reject(new Error(`the conformance server did not print its listening line within ${options.timeoutMs} ms (stdout so far: ${JSON.stringify(stdout.slice(0, 500))})`));
    }, options.timeoutMs);
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(new Error(`could not start the conformance server: ${error.message}`));
    });
    void exitPromise.then(() => {
      clearTimeout(timer);
      reject(new Error(`the conformance server exited (${exitText}) before listening; stderr: ${stderrLines.slice(0, 10).join("\n")}`));
    });
    child.stdout!.setEncoding("utf8");
    child.stdout!.on("data", (chunk: string) => {
      if (stdout.length < 10_000) stdout += chunk;
      const match = LISTENING.exec(stdout);
      if (match === null) return;
      clearTimeout(timer);
      const port = Number(match[1]);
      resolve({
        pid: child.pid!,
        port,
        process: child,
        stderrLines,
        exited: () => exitText,
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
