/**
 * Scenario 4, presence: M members joining one topic, then churn — the end-to-end presence
 * runner of the presence benchmark (e2e-bench.ts), against Cinder (CRDT presence, diffs
 * coalesced within the presence diff window) and against the naive presence (no CRDT, single
 * node: the full list to the joiner, one join/leave frame to every member per change) built
 * into the bench's Socket.IO and ws servers.
 */
import { runE2e, type E2eResult } from "../e2e-bench.js";
import type { ServerId } from "../load/dialects.js";
import { NaiveFleet } from "../load/naive-fleet.js";
import { launch } from "../servers.js";
import { join } from "node:path";
import type { Ctx } from "./common.js";

/** One server's presence result at one member count. */
export interface PresenceResult extends E2eResult {
  server: ServerId;
  /** "crdt" for Cinder, "naive" for the others. */
  kind: "crdt" | "naive";
  /** The per-phase wait bound it ran with. */
  timeoutSeconds: number;
}

/** Cinder's presence diff window as the conformance server runs it (the `createPresence` default). */
export const CINDER_DIFF_WINDOW_MS = 25;

/** Runs the presence scenario with `members` members against one server. Never throws. */
export async function runPresence(ctx: Ctx, id: ServerId, members: number): Promise<PresenceResult> {
  const { options } = ctx;
  const result = await runE2e({
    members, batch: Math.min(options.batch, 100), churnRate: options.churnRate, churnSeconds: options.churnSeconds,
    timeoutSeconds: options.presenceTimeoutSeconds,
    serverScript: join(ctx.paths.repoRoot, "apps", "conformance", "dist", "src", "server.js"), repoRoot: ctx.paths.repoRoot,
    start: async () => (await launch(id, ctx.paths)).child,
    ...(id === "cinder" ? {} : {
      topic: "room",
      makeFleet: (port: number, topic: string) => new NaiveFleet({ port, dialect: id, topic, members, batch: Math.min(options.batch, 100) }),
    }),
  }, (line) => ctx.log(`  ${id}:${line}`));
  return { ...result, server: id, kind: id === "cinder" ? "crdt" : "naive", timeoutSeconds: options.presenceTimeoutSeconds };
}
