/**
 * Command-line options of `npm run bench` (quick profile by default, `--full` for the issue's
 * full sizes; every size is a flag).
 */
import type { ServerId } from "./load/dialects.js";

/** The scenarios, in run order. */
export const SCENARIOS = ["fanout", "idle", "topics", "presence", "cluster", "recovery", "history"] as const;
export type ScenarioId = (typeof SCENARIOS)[number];

/** Parsed options. */
export interface BenchOptions {
  profile: "quick" | "full";
  scenarios: ScenarioId[];
  servers: ServerId[];
  /** At most this many connections connecting/subscribing at once. */
  batch: number;
  /** Upper bound of every wait, in seconds (added to a phase's planned duration). */
  timeoutSeconds: number;
  /** Scenario 1: subscribers on one topic. */
  fanoutSubscribers: number;
  /** Scenarios 1 and 5: the fixed delivery rate (deliveries/s = messages/s × subscribers). */
  deliveryRate: number;
  /** Seconds each fixed-rate phase lasts. */
  fixedSeconds: number;
  /** Messages in the 64 B burst. */
  burst64: number;
  /** Messages in the 4 KB burst. */
  burst4k: number;
  /** Scenario 2: connection counts measured in turn ("max" = the file limit allows). */
  idleSteps: Array<number | "max">;
  /** Scenario 3: subscribers, each on its own topic plus one shared topic. */
  topicSubscribers: number;
  /** Scenario 3: single-topic messages per second in the fixed phase. */
  topicRate: number;
  /** Scenario 3: single-topic messages in the burst. */
  topicBurst: number;
  /** Scenario 4: member counts. */
  presenceMembers: number[];
  churnRate: number;
  churnSeconds: number;
  /** Scenario 4: the per-phase wait bound (the naive servers at 10,000 members may need it all). */
  presenceTimeoutSeconds: number;
  /** Scenario 5: subscribers spread over the workers. */
  clusterSubscribers: number;
  clusterWorkers: number;
  redisUrl: string;
  /** Scenario 6: subscribers on one stream topic, messages published in each phase, and their rate. */
  recoverySubscribers: number;
  recoveryMessages: number;
  recoveryRate: number;
  /** Scenario 7 (history cost): connections (each on the three topics), rounds, burst size, fixed-rate seconds, stores. */
  historySubscribers: number;
  historyRounds: number;
  historyBurst: number;
  historyFixedSeconds: number;
  historyStores: Array<"memory" | "redis">;
  /** Scenarios 1 and 5: runs of each publish phase; the run with the median CPU per delivery is reported. */
  repeat: number;
  /** Profile each server over the fan-out phases (V8 CPU profiler, like node --cpu-prof) and print its top functions. */
  cpuProfile: boolean;
  /** `--history`: Cinder's topics are stream topics (history on), to measure what recording costs. */
  history: boolean;
  /** Scenario 2: heap snapshots of each server before and after the first step, and what grew per connection. */
  heapSnapshots: boolean;
  /** Rewrite the generated section of BENCHMARKS.md for this profile (only after a complete run, unless `forceMarkdown`). */
  writeMarkdown: boolean;
  /** `--md`: rewrite it even after a partial run (some scenarios or servers). */
  forceMarkdown: boolean;
}

const USAGE = `usage: npm run bench -- [--full] [--only ${SCENARIOS.join(",")}] [--servers cinder,socketio,ws]
  [--subscribers N] [--rate DELIVERIES_PER_S] [--fixed-seconds S] [--burst K] [--burst-4k K]
  [--idle-steps 1000,10000,max] [--topics N] [--topic-rate MSG_PER_S] [--topic-burst K]
  [--members 1000,10000] [--churn-rate K] [--churn-seconds S] [--presence-timeout-s T]
  [--cluster-subscribers N] [--workers N] [--redis URL]
  [--recovery-subscribers N] [--recovery-messages K] [--recovery-rate MSG_PER_S]
  [--history-subscribers N] [--history-rounds R] [--history-burst K] [--history-fixed-seconds S] [--history-stores memory,redis]
  [--repeat R] [--batch B] [--timeout-s T] [--profile] [--heap] [--history] [--no-md | --md]
  or: npm run bench -- --render bench/results/bench-<timestamp>.json   (re-print a saved run, rewrite its .md)`;

/** The defaults of a profile. */
export function defaults(profile: "quick" | "full"): BenchOptions {
  const full = profile === "full";
  return {
    profile,
    scenarios: [...SCENARIOS],
    servers: ["cinder", "socketio", "ws"],
    batch: 200,
    timeoutSeconds: 120,
    fanoutSubscribers: full ? 10_000 : 2_000,
    deliveryRate: 20_000,
    fixedSeconds: full ? 8 : 3,
    repeat: 3,
    burst64: full ? 100 : 200,
    burst4k: full ? 20 : 50,
    idleSteps: full ? [1_000, 10_000, "max"] : [1_000, 10_000],
    topicSubscribers: full ? 10_000 : 2_000,
    topicRate: 5_000,
    topicBurst: full ? 20_000 : 10_000,
    presenceMembers: full ? [1_000, 10_000] : [1_000],
    churnRate: 50,
    churnSeconds: 10,
    presenceTimeoutSeconds: full ? 240 : 120,
    clusterSubscribers: full ? 10_000 : 2_000,
    clusterWorkers: 2,
    recoverySubscribers: full ? 10_000 : 2_000,
    recoveryMessages: 100,
    recoveryRate: 20,
    historySubscribers: full ? 10_000 : 2_000,
    historyRounds: 9,
    historyBurst: full ? 40 : 100,
    historyFixedSeconds: 1.5,
    historyStores: ["memory", "redis"],
    redisUrl: process.env.CINDER_REDIS_URL ?? "redis://127.0.0.1:6379",
    cpuProfile: false,
    history: false,
    heapSnapshots: false,
    writeMarkdown: true,
    forceMarkdown: false,
  };
}

/** Parses `argv` (without node and the script). Exits with the usage on a bad option. */
export function parseOptions(argv: string[]): BenchOptions {
  const options = defaults(argv.includes("--full") ? "full" : "quick");
  const number = (name: string, value: string | undefined, min: number): number => {
    const parsed = Number(value);
    if (value === undefined || !Number.isFinite(parsed) || parsed < min) fail(`${name} needs a number >= ${min}`);
    return parsed;
  };
  const list = (name: string, value: string | undefined): string[] => {
    if (value === undefined || value === "") fail(`${name} needs a comma-separated list`);
    return value.split(",").map((item) => item.trim()).filter((item) => item !== "");
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    switch (arg) {
      case "--full": break;
      case "--quick": break;
      case "--only": {
        const wanted = list(arg, argv[++i]);
        for (const name of wanted) if (!(SCENARIOS as readonly string[]).includes(name)) fail(`unknown scenario ${name}`);
        options.scenarios = SCENARIOS.filter((name) => wanted.includes(name));
        break;
      }
      case "--servers": {
        const wanted = list(arg, argv[++i]);
        for (const name of wanted) if (!["cinder", "socketio", "ws"].includes(name)) fail(`unknown server ${name}`);
        options.servers = (["cinder", "socketio", "ws"] as const).filter((name) => wanted.includes(name));
        break;
      }
      case "--subscribers": options.fanoutSubscribers = Math.floor(number(arg, argv[++i], 1)); break;
      case "--rate": options.deliveryRate = number(arg, argv[++i], 1); break;
      case "--fixed-seconds": options.fixedSeconds = number(arg, argv[++i], 0.5); break;
      case "--burst": options.burst64 = Math.floor(number(arg, argv[++i], 1)); break;
      case "--burst-4k": options.burst4k = Math.floor(number(arg, argv[++i], 1)); break;
      case "--idle-steps":
        options.idleSteps = list(arg, argv[++i]).map((step) => (step === "max" ? "max" : Math.floor(number(arg, step, 1))));
        break;
      case "--topics": options.topicSubscribers = Math.floor(number(arg, argv[++i], 1)); break;
      case "--topic-rate": options.topicRate = number(arg, argv[++i], 1); break;
      case "--topic-burst": options.topicBurst = Math.floor(number(arg, argv[++i], 1)); break;
      case "--members": options.presenceMembers = list(arg, argv[++i]).map((m) => Math.floor(number(arg, m, 2))); break;
      case "--churn-rate": options.churnRate = number(arg, argv[++i], 0); break;
      case "--churn-seconds": options.churnSeconds = number(arg, argv[++i], 0); break;
      case "--presence-timeout-s": options.presenceTimeoutSeconds = number(arg, argv[++i], 1); break;
      case "--cluster-subscribers": options.clusterSubscribers = Math.floor(number(arg, argv[++i], 1)); break;
      case "--workers": options.clusterWorkers = Math.floor(number(arg, argv[++i], 2)); break;
      case "--recovery-subscribers": options.recoverySubscribers = Math.floor(number(arg, argv[++i], 2)); break;
      case "--recovery-messages": options.recoveryMessages = Math.floor(number(arg, argv[++i], 10)); break;
      case "--recovery-rate": options.recoveryRate = number(arg, argv[++i], 1); break;
      case "--history-subscribers": options.historySubscribers = Math.floor(number(arg, argv[++i], 1)); break;
      case "--history-rounds": options.historyRounds = Math.floor(number(arg, argv[++i], 1)); break;
      case "--history-burst": options.historyBurst = Math.floor(number(arg, argv[++i], 1)); break;
      case "--history-fixed-seconds": options.historyFixedSeconds = number(arg, argv[++i], 0.2); break;
      case "--history-stores": {
        const wanted = list(arg, argv[++i]);
        for (const name of wanted) if (name !== "memory" && name !== "redis") fail(`unknown store ${name}`);
        options.historyStores = (["memory", "redis"] as const).filter((name) => wanted.includes(name));
        break;
      }
      case "--redis": options.redisUrl = argv[++i] ?? fail("--redis needs a URL"); break;
      case "--batch": options.batch = Math.floor(number(arg, argv[++i], 1)); break;
      case "--timeout-s": options.timeoutSeconds = number(arg, argv[++i], 1); break;
      case "--repeat": options.repeat = Math.floor(number(arg, argv[++i], 1)); break;
      case "--profile": options.cpuProfile = true; break;
      case "--history": options.history = true; break;
      case "--heap": options.heapSnapshots = true; break;
      case "--no-md": options.writeMarkdown = false; break;
      case "--md": options.forceMarkdown = true; break;
      case "--help": case "-h": console.log(USAGE); process.exit(0); break;
      default: fail(`unknown option ${arg}`);
    }
  }
  return options;
}

function fail(message: string): never {
  console.error(`${message}\n${USAGE}`);
  process.exit(2);
}
