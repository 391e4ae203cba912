/**
 * The machine the benchmark ran on, and Linux /proc readers for another process's CPU time
 * (utime + stime, in clock ticks) and resident memory, plus the file-descriptor limits.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
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

/** CPU time (user + system) of process `pid` in milliseconds, from /proc/<pid>/stat. */
export function processCpuMs(pid: number): number {
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
