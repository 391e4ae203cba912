/**
 * The presence benchmark (a benchmark, not a test: nothing asserts on timings).
 *
 *   npm run bench:presence -- [--members N] [--full] [--churn-rate K] [--churn-seconds S] [--server-prof]
 *
 * Part 1 measures the in-process tracker (track / update / untrack of 10,000
 * keys, list of 10,000 members); part 2 runs the conformance server as a child process and M
 * WebSocket members (1,000; `--full` adds 10,000) through a join phase and a churn phase. It
 * prints one table per part and writes the results to bench/results/presence-<timestamp>.json.
 */
import { mkdirSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "./args.js";
import { topFunctions } from "./cpu-profile.js";
import { e2eTables, runE2e, type E2eResult } from "./e2e-bench.js";
import { machineInfo } from "./machine.js";
import { machineTable } from "./report.js";
import { fixed, int, mib, table } from "./table.js";
import { runTrackerBench, trackerTable, type TrackerResult } from "./tracker-bench.js";

const here = dirname(fileURLToPath(import.meta.url)); // bench/dist/src
const benchRoot = resolve(here, "..", "..");
const repoRoot = resolve(benchRoot, "..");
const serverScript = join(repoRoot, "apps", "conformance", "dist", "src", "server.js");

const log = (line: string): void => console.log(line);

async function main(): Promise<number> {
  const options = parseArgs(process.argv.slice(2));
  const machine = machineInfo();
  const startedAt = new Date();
  const stamp = startedAt.toISOString().replace(/[:.]/g, "-");

  const machineRows = machineTable(machine);
  log(table(machineRows.title, machineRows.header, machineRows.rows));
  log("");

  // File descriptors: this process holds one per member; the server child one per member too.
  const largest = options.skipE2e ? 0 : Math.max(...options.profiles);
  const needed = largest + 256;
  const soft = machine.fdLimit.soft === "unlimited" ? Infinity : machine.fdLimit.soft;
  const hard = machine.fdLimit.hard === "unlimited" ? Infinity : machine.fdLimit.hard;
  if (soft < needed) {
    const hint = hard >= needed ? `run \`ulimit -n ${needed}\` first (the hard limit is ${machine.fdLimit.hard})` : `the hard limit is ${machine.fdLimit.hard}; raise it (e.g. /etc/security/limits.conf) first`;
    console.error(`error: ${int(largest)} members need about ${int(needed)} file descriptors but ulimit -n is ${machine.fdLimit.soft}; ${hint}`);
    return 2;
  }

  let tracker: TrackerResult | undefined;
  if (!options.skipTracker) {
    log(`Part 1: in-process tracker (${int(options.trackerKeys)} keys, ${options.rounds} rounds + warm-up)`);
    tracker = await runTrackerBench(options.trackerKeys, options.rounds, log);
    log("");
    log(trackerTable(tracker));
    log("");
  }

  const e2e: E2eResult[] = [];
  const profileDir = join(benchRoot, "results", "profiles", stamp);
  if (!options.skipE2e) {
    for (const members of options.profiles) {
      log(`Part 2: end to end with ${int(members)} members (churn ${options.churnRate}/s for ${options.churnSeconds} s, timeout ${options.timeoutSeconds} s per phase)`);
      const before = new Set(listProfiles(profileDir));
      const result = await runE2e({
        members, batch: options.batch, churnRate: options.churnRate, churnSeconds: options.churnSeconds,
        timeoutSeconds: options.timeoutSeconds, serverScript, repoRoot,
        ...(options.serverProfile ? { cpuProfileDir: profileDir } : {}),
      }, log);
      const written = listProfiles(profileDir).filter((file) => !before.has(file));
      if (written[0] !== undefined) {
        result.cpuProfile = relative(repoRoot, written[0]);
        const top = topFunctions(written[0]);
        log("");
        log(table(`Server CPU profile, M = ${int(members)}: top functions by self time (${result.cpuProfile})`,
          ["function", "self ms", "%"], top.map((entry) => [entry.name, int(entry.selfMs), fixed(entry.percent, 1)])));
      }
      e2e.push(result);
      log("");
    }
    log(e2eTables(e2e, machine.clockTicksPerSecond));
    log("");
  }

  const resultsDir = join(benchRoot, "results");
  mkdirSync(resultsDir, { recursive: true });
  const file = join(resultsDir, `presence-${stamp}.json`);
  const round = (value: unknown): unknown =>
    JSON.parse(JSON.stringify(value, (_key, v: unknown) => (typeof v === "number" && !Number.isInteger(v) ? Number(v.toFixed(3)) : v)));
  writeFileSync(file, JSON.stringify(round({
    benchmark: "presence",
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    argv: process.argv.slice(2),
    options,
    machine,
    tracker,
    e2e,
  }), null, 2) + "\n");
  log(`results written to ${relative(process.cwd(), file)}`);
  return e2e.some((result) => result.error !== undefined) ? 1 : 0;
}

function listProfiles(dir: string): string[] {
  try {
    return readdirSync(dir).filter((name) => name.endsWith(".cpuprofile")).map((name) => join(dir, name))
      .sort((a, b) => statSync(a).mtimeMs - statSync(b).mtimeMs);
  } catch {
    return [];
  }
}

main().then((code) => {
  process.exitCode = code;
}, (error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
