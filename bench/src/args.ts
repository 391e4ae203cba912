/**
 * Command-line options of the presence benchmark:
 * `[--members N] [--full] [--churn-rate K] [--churn-seconds S] [--batch B] [--timeout-s T] [--rounds R] [--server-prof] [--skip-tracker] [--skip-e2e]`.
 */

/** Parsed options. */
export interface BenchOptions {
  /** End-to-end member counts to run, in order. */
  profiles: number[];
  /** Members closed and reconnected per second during churn. */
  churnRate: number;
  /** How long churn lasts, in seconds. */
  churnSeconds: number;
  /** At most this many connections connecting/joining at once. */
  batch: number;
  /** Upper bound of every wait (per phase), in seconds. */
  timeoutSeconds: number;
  /** Rounds of the in-process tracker benchmark (median reported). */
  rounds: number;
  /** Keys tracked in the in-process tracker benchmark. */
  trackerKeys: number;
  /** Run the server child under `node --cpu-prof` and print its top functions. */
  serverProfile: boolean;
  skipTracker: boolean;
  skipE2e: boolean;
}

const USAGE = "usage: npm run bench:presence -- [--members N] [--full] [--churn-rate K] [--churn-seconds S] " +
  "[--batch B] [--timeout-s T] [--rounds R] [--tracker-keys N] [--server-prof] [--skip-tracker] [--skip-e2e]";

/** Parses `argv` (without node and the script). Exits with the usage on a bad option. */
export function parseArgs(argv: string[]): BenchOptions {
  const options: BenchOptions = {
    profiles: [1_000], churnRate: 50, churnSeconds: 10, batch: 100, timeoutSeconds: 180, rounds: 5, trackerKeys: 10_000,
    serverProfile: false, skipTracker: false, skipE2e: false,
  };
  let members: number | undefined;
  let full = false;
  const number = (name: string, value: string | undefined, min: number): number => {
    const parsed = Number(value);
    if (value === undefined || !Number.isFinite(parsed) || parsed < min) fail(`${name} needs a number >= ${min}`);
    return parsed;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    switch (arg) {
      case "--members": members = Math.floor(number(arg, argv[++i], 2)); break;
      case "--full": full = true; break;
      case "--churn-rate": options.churnRate = number(arg, argv[++i], 0); break;
      case "--churn-seconds": options.churnSeconds = number(arg, argv[++i], 0); break;
      case "--batch": options.batch = Math.floor(number(arg, argv[++i], 1)); break;
      case "--timeout-s": options.timeoutSeconds = number(arg, argv[++i], 1); break;
      case "--rounds": options.rounds = Math.floor(number(arg, argv[++i], 1)); break;
      case "--tracker-keys": options.trackerKeys = Math.floor(number(arg, argv[++i], 1)); break;
      case "--server-prof": options.serverProfile = true; break;
      case "--skip-tracker": options.skipTracker = true; break;
      case "--skip-e2e": options.skipE2e = true; break;
      case "--help": case "-h": console.log(USAGE); process.exit(0); break;
      default: fail(`unknown option ${arg}`);
    }
  }
  if (members !== undefined) options.profiles = [members];
  else if (full) options.profiles = [1_000, 10_000];
  return options;
}

function fail(message: string): never {
  console.error(`${message}\n${USAGE}`);
  process.exit(2);
}
