/**
 * `@cinder/server/node`: the process bootstrap shared by Cinder's servers — the command line
 * (`--workers N`, `--accept` on `node:util` parseArgs), one-machine mode on `node:cluster` with rolling
 * restarts, listening and a graceful drain on SIGTERM.
 */
export { serverArgs, type AcceptMode, type ServerArgs } from "./args.js";
export { forkWorkers, type WorkerRole } from "./workers.js";
export { serve, type NodeInfo, type ServeOptions, type Service } from "./serve.js";
