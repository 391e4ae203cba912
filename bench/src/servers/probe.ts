/**
 * A preload for every benchmarked server (`node --expose-gc --import <this file> server.js`),
 * so the bench can ask a server it does not own — the Cinder conformance server — for its heap
 * after a full GC, and profile it over a chosen window, without touching the server's code.
 *
 * It answers requests on the child-process IPC channel (spawned with an `"ipc"` stdio entry)
 * and does nothing else: no timers, no sockets, no work on the server's hot path. Requests:
 *
 * - `{id, cmd: "mem"}` → runs `global.gc()` three times, answers `{id, mem: process.memoryUsage()}`;
 * - `{id, cmd: "profile-start", intervalUs}` → starts the V8 CPU profiler (the same sampler as
 *   `node --cpu-prof`, through `node:inspector`), answers `{id}`;
 * - `{id, cmd: "profile-stop", path}` → stops it, writes the `.cpuprofile` to `path`, answers `{id}`;
 * - `{id, cmd: "heap-snapshot", path}` → writes a V8 heap snapshot to `path` (after a GC), answers `{id}`.
 *
 * In cluster workers (`NODE_UNIQUE_ID` set: node:cluster's IPC belongs to the primary) and
 * without an IPC channel it stays inert.
 */
import { writeFileSync } from "node:fs";
import { Session } from "node:inspector";
import { writeHeapSnapshot } from "node:v8";

interface Request {
  id: number;
  cmd: string;
  path?: string;
  intervalUs?: number;
}

let session: Session | undefined;

function post<T>(method: string, params?: object): Promise<T> {
  return new Promise((resolve, reject) => {
    session!.post(method, params ?? {}, (error, result) => (error ? reject(error) : resolve(result as T)));
  });
}

async function handle(request: Request): Promise<Record<string, unknown>> {
  switch (request.cmd) {
    case "mem": {
      const gc = (globalThis as { gc?: () => void }).gc;
      if (gc !== undefined) for (let i = 0; i < 3; i++) gc();
      return { mem: process.memoryUsage(), gc: gc !== undefined };
    }
    case "profile-start": {
      session ??= new Session();
      session.connect();
      await post("Profiler.enable");
      await post("Profiler.setSamplingInterval", { interval: request.intervalUs ?? 500 });
      await post("Profiler.start");
      return {};
    }
    case "profile-stop": {
      if (session === undefined) throw new Error("no profile running");
      const { profile } = await post<{ profile: unknown }>("Profiler.stop");
      await post("Profiler.disable");
      session.disconnect();
      session = undefined;
      if (request.path !== undefined) writeFileSync(request.path, JSON.stringify(profile));
      return {};
    }
    case "heap-snapshot": {
      (globalThis as { gc?: () => void }).gc?.();
      writeHeapSnapshot(request.path);
      return {};
    }
    default:
      throw new Error(`unknown probe command ${request.cmd}`);
  }
}

if (typeof process.send === "function" && process.env.NODE_UNIQUE_ID === undefined) {
  process.on("message", (message: unknown) => {
    const request = message as Request;
    if (typeof request !== "object" || request === null || typeof request.cmd !== "string") return;
    handle(request).then(
      (answer) => process.send?.({ id: request.id, ...answer }),
      (error: unknown) => process.send?.({ id: request.id, error: error instanceof Error ? error.message : String(error) }),
    );
  });
  // The server keeps itself alive; the IPC channel must not.
  process.channel?.unref();
}
