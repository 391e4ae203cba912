/**
 * The command line shared by Cinder's servers, read with `node:util` `parseArgs`:
 * `--workers N` (or `CINDER_WORKERS`, default 1) runs N processes on one port; `--accept shared|primary`
 * (or `CINDER_ACCEPT`, default primary) says who accepts their connections (workers.ts). Every mistake is
 * an `Error` whose message names the flag and the value (a negative number after a flag, which
 * parseArgs alone calls "ambiguous", is read as that flag's value and refused as such).
 */
import { parseArgs } from "node:util";

/** What a server's command line says. */
export interface ServerArgs {
  /** How many worker processes share the port; 1 runs the server in this process. */
  workers: number;
  /** Who accepts the workers' connections (`forkWorkers`): the workers themselves, or the primary handing each over. */
  accept: AcceptMode;
}

/** Who accepts connections in one-machine mode: each worker from the shared socket, or the primary round-robin. */
export type AcceptMode = "shared" | "primary";

const ACCEPT_MODES: readonly AcceptMode[] = ["shared", "primary"];

/** The flags `serverArgs` knows, each taking a value. */
const FLAGS = ["workers N", "accept shared|primary"] as const;

/** `argv` with `--flag -3` written `--flag=-3`, so a negative value reaches the check as a value. */
function joinNegativeValues(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const next = argv[i + 1];
    if (arg.startsWith("--") && !arg.includes("=") && next !== undefined && /^-\d/.test(next)) {
      out.push(`${arg}=${next}`);
      i++;
    } else out.push(arg);
  }
  return out;
}

/**
 * Reads `--workers N` from `argv` (after the script), else `CINDER_WORKERS`, else 1, and
 * `--accept`, else `CINDER_ACCEPT`, else "primary"; throws on a bad value.
 */
export function serverArgs(argv: readonly string[] = process.argv.slice(2), env: NodeJS.ProcessEnv = process.env): ServerArgs {
  let values: { workers?: string | undefined; accept?: string | undefined };
  try {
    ({ values } = parseArgs({ args: joinNegativeValues(argv), options: { workers: { type: "string" }, accept: { type: "string" } }, strict: true, allowPositionals: false }));
  } catch (error) {
    const known = FLAGS.map((flag) => `--${flag}`).join(", ");
    throw new Error(`${(error as Error).message} (the options are: ${known})`);
  }
  const raw = values.workers ?? env.CINDER_WORKERS ?? "1";
  const workers = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || !Number.isInteger(workers) || workers < 1) {
    throw new Error(`--workers must be a positive integer, got ${JSON.stringify(raw)}`);
  }
  const accept = values.accept ?? env.CINDER_ACCEPT ?? "primary";
  if (!(ACCEPT_MODES as readonly string[]).includes(accept)) {
    throw new Error(`--accept must be "shared" or "primary", got ${JSON.stringify(accept)}`);
  }
  return { workers, accept: accept as AcceptMode };
}
