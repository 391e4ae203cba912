/**
 * Part 1, in-process tracker throughput (no network): `track` ({ownerId, topic}) of N distinct owners/keys on
 * one topic, `list(topic)` of those N members, `update` of all, `untrack` of all,
 * each timed as a synchronous loop; the coalesced diff is flushed (and timed separately) after
 * each loop so the operations do not cancel each other out. Several rounds on fresh topics of
 * one presence instance; the median is reported.
 */
import { createPresence, PubSub, silentLogger } from "@cinder/server";
import { duration, fixed, int, median, table } from "./table.js";

/** One round's timings in milliseconds. */
export interface TrackerRound {
  trackMs: number;
  trackFlushMs: number;
  listMs: number;
  listedKeys: number;
  updateMs: number;
  updateFlushMs: number;
  untrackMs: number;
  untrackFlushMs: number;
}

/** The tracker benchmark's result. */
export interface TrackerResult {
  keys: number;
  rounds: TrackerRound[];
  median: { trackOpsPerSec: number; updateOpsPerSec: number; untrackOpsPerSec: number; listMs: number;
    trackFlushMs: number; updateFlushMs: number; untrackFlushMs: number };
}

const now = (): number => performance.now();

/** Runs `rounds` rounds of `keys` operations each (plus one unreported warm-up round). */
export async function runTrackerBench(keys: number, rounds: number, log: (line: string) => void): Promise<TrackerResult> {
  const presence = createPresence({ pubsub: new PubSub(), logger: silentLogger });
  const results: TrackerRound[] = [];
  try {
    for (let round = -1; round < rounds; round++) {
      const topic = `bench:tracker:${round + 1}`;
      const owners = Array.from({ length: keys }, (_, i) => `owner-${round + 1}-${i}`);
      const names = Array.from({ length: keys }, (_, i) => `user-${i}`);

      let start = now();
      for (let i = 0; i < keys; i++) presence.track({ ownerId: owners[i]!, topic }, names[i]!, { online_at: i, device: "bench" });
      const trackMs = now() - start;
      start = now();
      await presence.flush();
      const trackFlushMs = now() - start;

      start = now();
      const listed = await presence.list(topic);
      const listMs = now() - start;
      const listedKeys = Object.keys(listed).length;

      start = now();
      for (let i = 0; i < keys; i++) presence.update({ ownerId: owners[i]!, topic }, names[i]!, { online_at: i, device: "bench", typing: true });
      const updateMs = now() - start;
      start = now();
      await presence.flush();
      const updateFlushMs = now() - start;

      start = now();
      for (let i = 0; i < keys; i++) presence.untrack({ ownerId: owners[i]!, topic }, names[i]!);
      const untrackMs = now() - start;
      start = now();
      await presence.flush();
      const untrackFlushMs = now() - start;

      if (listedKeys !== keys) log(`warning: list returned ${listedKeys} keys, expected ${keys}`);
      if (presence.countUsers(topic) !== 0) log(`warning: ${presence.countUsers(topic)} keys left after untrack`);
      const entry = { trackMs, trackFlushMs, listMs, listedKeys, updateMs, updateFlushMs, untrackMs, untrackFlushMs };
      if (round >= 0) results.push(entry);
      log(`  tracker round ${round < 0 ? "warm-up" : round + 1}: track ${fixed(trackMs)} ms, list ${fixed(listMs)} ms, ` +
        `update ${fixed(updateMs)} ms, untrack ${fixed(untrackMs)} ms`);
    }
  } finally {
    await presence.close();
  }
  const ops = (ms: number): number => (keys / ms) * 1000;
  return {
    keys,
    rounds: results,
    median: {
      trackOpsPerSec: median(results.map((r) => ops(r.trackMs))),
      updateOpsPerSec: median(results.map((r) => ops(r.updateMs))),
      untrackOpsPerSec: median(results.map((r) => ops(r.untrackMs))),
      listMs: median(results.map((r) => r.listMs)),
      trackFlushMs: median(results.map((r) => r.trackFlushMs)),
      updateFlushMs: median(results.map((r) => r.updateFlushMs)),
      untrackFlushMs: median(results.map((r) => r.untrackFlushMs)),
    },
  };
}

/** The part 1 table. */
export function trackerTable(result: TrackerResult): string {
  const { rounds, keys } = result;
  const ops = (ms: number): number => (keys / ms) * 1000;
  const row = (name: string, pick: (r: TrackerRound) => number, flush: ((r: TrackerRound) => number) | undefined): string[] => {
    const times = rounds.map(pick);
    return [
      name,
      int(keys),
      int(median(times.map(ops))),
      int(Math.min(...times.map(ops))),
      int(Math.max(...times.map(ops))),
      duration(median(times)),
      flush === undefined ? "-" : duration(median(rounds.map(flush))),
    ];
  };
  const listTimes = rounds.map((r) => r.listMs);
  return table(
    `Part 1: in-process tracker, ${int(keys)} keys on one topic, median of ${rounds.length} rounds`,
    ["operation", "n", "ops/s (median)", "ops/s (min)", "ops/s (max)", "time (median)", "diff flush (median)"],
    [
      row("track", (r) => r.trackMs, (r) => r.trackFlushMs),
      row("update", (r) => r.updateMs, (r) => r.updateFlushMs),
      row("untrack", (r) => r.untrackMs, (r) => r.untrackFlushMs),
      ["list(topic)", int(keys), "-", "-", "-", `${duration(median(listTimes))} (min ${duration(Math.min(...listTimes))}, max ${duration(Math.max(...listTimes))})`, "-"],
    ],
  );
}
