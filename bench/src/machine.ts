/**
 * The machine the benchmark ran on, and Linux /proc readers for another process's CPU time
 * (utime + stime, in clock ticks) and resident memory, plus the file-descriptor limits.
 */
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import os from "node:os";

/** What the results JSON records about the machine. */
export interface MachineInfo {
  os: string;
  kernel: string;
  arch: string;
  cpuModel: string;
  cpuCount: number;
  totalMemoryBytes: number;
  node: string;
  clockTicksPerSecond: number;
  fdLimit: { soft: number | "unlimited"; hard: number | "unlimited" };
  localPortRange: string;
  /** 1, 5 and 15 minute load averages when the run started (other work on the machine skews timings). */
  loadAverage: number[];
  /** The repository's commit, and whether the working tree had changes (others edit it concurrently). */
  git: { commit: string; dirty: boolean };
}

function shell(script: string): string {
  try {
    return execFileSync("sh", ["-c", script], { encoding: "utf8" }).trim();
  } catch {
    return "";
  }
}

function limit(text: string | undefined): number | "unlimited" {
  return text === undefined || text === "unlimited" || text === "" ? "unlimited" : Number(text);
}

let ticks: number | undefined;

/** `getconf CLK_TCK` (usually 100). */
export function clockTicksPerSecond(): number {
  if (ticks === undefined) ticks = Number(shell("getconf CLK_TCK")) || 100;
  return ticks;
}

/** Collects the machine description (os, cpus, memory, node, limits). */
export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  const [soft, hard] = shell("ulimit -Sn; ulimit -Hn").split("\n");
  let portRange = "";
  try {
    portRange = readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().replace(/\s+/g, "-");
  } catch { /* not Linux */ }
  return {
    os: `${os.type()} ${os.platform()}`,
    kernel: os.release(),
    arch: os.arch(),
    cpuModel: cpus[0]?.model.trim() ?? "unknown",
    cpuCount: cpus.length,
    totalMemoryBytes: os.totalmem(),
    node: process.version,
    clockTicksPerSecond: clockTicksPerSecond(),
    fdLimit: { soft: limit(soft), hard: limit(hard) },
    localPortRange: portRange,
    loadAverage: os.loadavg().map((value) => Number(value.toFixed(2))),
    git: { commit: shell("git rev-parse --short HEAD 2>/dev/null") || "unknown", dirty: shell("git status --porcelain 2>/dev/null") !== "" },
  };
}

/**
 * CPU time (user + system) of process `pid` in milliseconds: the scheduler's run time of each of
 * its threads (/proc/<pid>/task/<tid>/schedstat, nanoseconds) summed — precise where
 * /proc/<pid>/stat's utime + stime count 10 ms clock ticks; falls back to those. (A thread that
 * exits takes its time with it; Node's threads live as long as the process.)
 */
export function processCpuMs(pid: number): number {
  let tasks: string[] = [];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    // not Linux, or gone: the stat read below throws for a gone process
  }
  let ns = 0;
  for (const task of tasks) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${task}/schedstat`, "utf8").split(" ", 1)[0]);
    } catch {
      // the thread exited meanwhile
    }
  }
  if (ns > 0 && Number.isFinite(ns)) return ns / 1e6;
  return processTicksCpuMs(pid);
}

/** CPU time (user + system) of process `pid` in milliseconds, from /proc/<pid>/stat (clock-tick resolution). */
export function processTicksCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // Fields after "(comm)": state is field 3; utime and stime are fields 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return ((utime + stime) * 1000) / clockTicksPerSecond();
}

/** Resident set size of process `pid` in bytes, from /proc/<pid>/status VmRSS. */
export function processRssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  return match === null ? 0 : Number(match[1]) * 1024;
}

/** This process's CPU time (user + system) in milliseconds. */
export function selfCpuMs(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
}

/** Machine-wide CPU time so far, from /proc/stat, in milliseconds summed over all cores: busy, of which irq + softirq (network), and total. */
export function machineCpuMs(): { busy: number; irq: number; total: number } {
  const line = readFileSync("/proc/stat", "utf8").split("\n", 1)[0]!;
  const values = line.trim().split(/\s+/).slice(1, 9).map(Number); // user nice system idle iowait irq softirq steal
  const total = values.reduce((sum, value) => sum + value, 0);
  const idle = (values[3] ?? 0) + (values[4] ?? 0);
  const toMs = 1000 / clockTicksPerSecond();
  return { busy: (total - idle) * toMs, irq: ((values[5] ?? 0) + (values[6] ?? 0)) * toMs, total: total * toMs };
}

/** The pids whose parent is `pid` (from /proc/<n>/stat), e.g. a cluster primary's workers. */
export function childPids(pid: number): number[] {
  const children: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(fields[1]) === pid) children.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return children;
}

/** Pids of processes whose command name (/proc/<n>/comm) is `comm` (e.g. "redis-server"); read-only. */
export function pidsByName(comm: string): number[] {
  const found: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readFileSync(`/proc/${name}/comm`, "utf8").trim() === comm) found.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

/** Summed CPU time (user + system, ms) of `pids`; a pid that is gone counts 0. */
export function processesCpuMs(pids: readonly number[]): number {
  let total = 0;
  for (const pid of pids) {
    try {
      total += processCpuMs(pid);
    } catch {
      // gone
    }
  }
  return total;
}

/**
 * Which of `pids` holds each accepted TCP connection on `serverPort`, keyed by the client's
 * port: socket inodes from /proc/<pid>/fd, matched against /proc/net/tcp{,6}.
 */
export function clientPortOwners(pids: readonly number[], serverPort: number): Map<number, number> {
  const owner = new Map<string, number>();
  for (const pid of pids) {
    let fds: string[] = [];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (match !== null) owner.set(match[1]!, pid);
      } catch {
        // closed meanwhile
      }
    }
  }
  const byClientPort = new Map<number, number>();
  for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text = "";
    try {
      text = readFileSync(file, "utf8");
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields.length < 10) continue;
      const localPort = parseInt(fields[1]!.split(":")[1] ?? "", 16);
      if (localPort !== serverPort) continue;
      const pid = owner.get(fields[9]!);
      if (pid !== undefined) byClientPort.set(parseInt(fields[2]!.split(":")[1] ?? "", 16), pid);
    }
  }
  return byClientPort;
}

/** Write syscalls (`syscw`) and bytes written (`wchar`) of process `pid` so far, from /proc/<pid>/io; zeros when unreadable. */
export function processWrites(pid: number): { syscalls: number; bytes: number } {
  try {
    const text = readFileSync(`/proc/${pid}/io`, "utf8");
    return { syscalls: Number(/^syscw:\s+(\d+)/m.exec(text)?.[1] ?? 0), bytes: Number(/^wchar:\s+(\d+)/m.exec(text)?.[1] ?? 0) };
  } catch {
    return { syscalls: 0, bytes: 0 };
  }
}
