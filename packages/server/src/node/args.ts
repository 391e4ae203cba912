/**
 * The command line shared by Cinder's servers, read with `node:util` `parseArgs`:
 * `--workers N` (or `CINDER_WORKERS`, default 1) runs N processes on one port.
 */
import { parseArgs } from "node:util";

/** What a server's command line says. */
export interface ServerArgs {
  /** How many worker processes share the port; 1 runs the server in this process. */
  workers: number;
}

/** Reads `--workers N` from `argv` (after the script), else `CINDER_WORKERS`, else 1; throws on a bad value. */
export function serverArgs(argv: readonly string[] = process.argv.slice(2), env: NodeJS.ProcessEnv = process.env): ServerArgs {
  const { values } = parseArgs({ args: [...argv], options: { workers: { type: "string" } }, strict: true, allowPositionals: false });
  const raw = values.workers ?? env.CINDER_WORKERS ?? "1";
  const workers = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || !Number.isInteger(workers) || workers < 1) {
    throw new Error(`--workers must be a positive integer, got ${JSON.stringify(raw)}`);
  }
  return { workers };
}
