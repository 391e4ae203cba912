/**
 * Summarizes a V8 `.cpuprofile` (as written by `node --cpu-prof`): self time per function,
 * highest first, so a bottleneck can be named.
 */
import { readFileSync } from "node:fs";
import { basename } from "node:path";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** One function's self time. */
export interface ProfileEntry {
  name: string;
  selfMs: number;
  percent: number;
}

/** The `top` functions by self time in the profile at `path`. */
export function topFunctions(path: string, top = 15): ProfileEntry[] {
  const profile = JSON.parse(readFileSync(path, "utf8")) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    const frame = byId.get(id)?.callFrame;
    if (frame === undefined) return;
    const where = frame.url === "" ? "" : ` ${basename(frame.url)}:${frame.lineNumber + 1}`;
    const name = `${frame.functionName || "(anonymous)"}${where}`;
    self.set(name, (self.get(name) ?? 0) + delta);
    total += delta;
  });
  return [...self.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([name, micros]) => ({ name, selfMs: micros / 1000, percent: (100 * micros) / Math.max(1, total) }));
}

interface TreeNode extends ProfileNode {
  children?: number[];
}

/**
 * The `top` functions by total (inclusive) time in the profile at `path`: the time of every
 * sample whose stack contains the function (counted once per sample, however deep the recursion).
 */
export function topInclusive(path: string, top = 15): ProfileEntry[] {
  const profile = JSON.parse(readFileSync(path, "utf8")) as CpuProfile & { nodes: TreeNode[] };
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const label = (node: TreeNode): string => {
    const frame = node.callFrame;
    const where = frame.url === "" ? "" : ` ${basename(frame.url)}:${frame.lineNumber + 1}`;
    return `${frame.functionName || "(anonymous)"}${where}`;
  };
  const names = new Map(profile.nodes.map((node) => [node.id, label(node)]));
  const total = new Map<string, number>();
  let all = 0;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    all += delta;
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      if (!byId.has(at)) break;
      const name = names.get(at)!;
      if (seen.has(name)) continue;
      seen.add(name);
      total.set(name, (total.get(name) ?? 0) + delta);
    }
  });
  return [...total.entries()]
    .filter(([name]) => !name.startsWith("(root)"))
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([name, micros]) => ({ name, selfMs: micros / 1000, percent: (100 * micros) / Math.max(1, all) }));
}
