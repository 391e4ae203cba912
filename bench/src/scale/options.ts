/**
 * The scale scenario's flags (node:util parseArgs) and their defaults; a bad value is a clear
 * error (thrown as `OptionsError`, printed with the usage), never a crash mid-run.
 */
import { parseArgs } from "node:util";
import { SCALE_SERVERS, type ScaleServerId } from "./protocol.js";

/** Connections one server worker is planned to hold at most (under the 20,000-descriptor limit). */
export const PER_WORKER = 16_000;
/** Connections one load process holds at most by default (6 of them for 100,000). */
export const PER_LOAD = 16_667;
/** The hard ceiling of one load process (each connection is a descriptor; a process may hold 20,000). */
export const MAX_PER_LOAD = 19_000;

/** The scenario's settings. */
export interface ScaleOptions {
  servers: ScaleServerId[];
  connections: number;
  /** Undefined: `ceil(connections / PER_WORKER)`. */
  workers: number | undefined;
  /** `--accept` for Cinder's servers with workers (undefined: the server's default, primary). */
  accept: "shared" | "primary" | undefined;
  loadProcesses: number;
  holdSeconds: number;
  broadcasts: number;
  burst: number;
  /** Connects started per second in all (0: unpaced). */
  rate: number;
  /** Connects + joins in flight in all. */
  concurrency: number;
  joinTimeoutSeconds: number;
  idleSeconds: number;
  heartbeatSeconds: number;
  redisUrl: string;
  privateRedis: boolean;
  json: boolean;
  md: boolean;
}

/** A bad flag. */
export class OptionsError extends Error {}

/** The usage text. */
export const USAGE = `npm run bench:scale -- [flags]
  --server cinder|demo|socketio|ws  repeatable or a comma list (default cinder)
  --connections N                 joined connections (100000)
  --workers W                     server workers (enough that each holds <= ${PER_WORKER.toLocaleString("en-US")})
  --accept shared|primary         who accepts Cinder's workers' connections (the server's default: primary)
  --load-processes P              load processes, each from 127.1.i.1-32 (enough that each holds <= ${PER_LOAD.toLocaleString("en-US")})
  --hold-seconds S                hold every connection at least S s after the last join (120)
  --broadcasts K                  steady broadcasts, one a second (30)
  --burst B                       broadcasts sent back to back, for deliveries/s at saturation (10)
  --rate R                        connects started per second in all, 0 = unpaced (3000)
  --concurrency C                 connects+joins in flight in all (1000)
  --join-timeout S                a connection not joined within S s fails (30)
  --idle-seconds S                the idle-CPU window (10)
  --heartbeat-seconds S           Phoenix heartbeat period of each connection (30)
  --redis URL                     the Redis the workers join (redis://127.0.0.1:6379)
  --private-redis                 start a throwaway redis-server instead (its CPU is then the run's own)
  --json / --md                   write only bench/results/scale-<time>.json / .md (default: both)`;

function int(name: string, raw: string | undefined, fallback: number, min: number): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(value) || value < min) throw new OptionsError(`--${name} must be an integer >= ${min}, got ${JSON.stringify(raw)}`);
  return value;
}

/** Parses `argv` (after the script). */
export function scaleOptions(argv: readonly string[]): ScaleOptions {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv], strict: true, allowPositionals: false,
      options: {
        server: { type: "string", multiple: true }, connections: { type: "string" }, workers: { type: "string" }, accept: { type: "string" },
        "load-processes": { type: "string" }, "hold-seconds": { type: "string" }, broadcasts: { type: "string" },
        burst: { type: "string" }, rate: { type: "string" }, concurrency: { type: "string" }, "join-timeout": { type: "string" },
        "idle-seconds": { type: "string" }, "heartbeat-seconds": { type: "string" }, redis: { type: "string" },
        "private-redis": { type: "boolean" }, json: { type: "boolean" }, md: { type: "boolean" }, help: { type: "boolean" },
      },
    }));
  } catch (error) {
    throw new OptionsError((error as Error).message);
  }
  if (values.help === true) throw new OptionsError("");
  const servers = (values.server ?? ["cinder"]).flatMap((s) => s.split(",")).map((s) => s.trim()).filter(Boolean);
  for (const s of servers) if (!(SCALE_SERVERS as readonly string[]).includes(s)) throw new OptionsError(`--server must be one of ${SCALE_SERVERS.join(", ")}, got ${JSON.stringify(s)}`);
  const connections = int("connections", values.connections, 100_000, 1);
  const loadProcesses = int("load-processes", values["load-processes"], Math.max(1, Math.ceil(connections / PER_LOAD)), 1);
  if (Math.ceil(connections / loadProcesses) > MAX_PER_LOAD) {
    throw new OptionsError(`${loadProcesses} load process(es) would each hold ${Math.ceil(connections / loadProcesses)} connections; at most ${MAX_PER_LOAD} fit one process's descriptors: use --load-processes ${Math.ceil(connections / MAX_PER_LOAD)} or more`);
  }
  if (loadProcesses > 240) throw new OptionsError("--load-processes must be at most 240");
  if (values.accept !== undefined && values.accept !== "shared" && values.accept !== "primary") throw new OptionsError(`--accept must be shared or primary, got ${JSON.stringify(values.accept)}`);
  const json = values.json === true;
  const md = values.md === true;
  return {
    servers: [...new Set(servers)] as ScaleServerId[],
    connections,
    workers: values.workers === undefined ? undefined : int("workers", values.workers, 1, 1),
    accept: values.accept,
    loadProcesses,
    holdSeconds: int("hold-seconds", values["hold-seconds"], 120, 0),
    broadcasts: int("broadcasts", values.broadcasts, 30, 0),
    burst: int("burst", values.burst, 10, 0),
    rate: int("rate", values.rate, 3000, 0),
    concurrency: int("concurrency", values.concurrency, 1000, 1),
    joinTimeoutSeconds: int("join-timeout", values["join-timeout"], 30, 1),
    idleSeconds: int("idle-seconds", values["idle-seconds"], 10, 1),
    heartbeatSeconds: int("heartbeat-seconds", values["heartbeat-seconds"], 30, 1),
    redisUrl: values.redis ?? "redis://127.0.0.1:6379",
    privateRedis: values["private-redis"] === true,
    json: json || !md,
    md: md || !json,
  };
}

/** The workers a run uses: the flag, else enough that each holds at most PER_WORKER. */
export function workersFor(options: Pick<ScaleOptions, "workers" | "connections">): number {
  return options.workers ?? Math.max(1, Math.ceil(options.connections / PER_WORKER));
}
