/**
 * Scenario 3, many topics: N subscribers, each on its own topic `t<i>` plus one shared topic.
 * Publishing to single topics (a random permutation, each message reaching one subscriber)
 * at a fixed rate and in a burst measures the per-message routing cost with N+1 topics live;
 * a short burst on the shared topic measures fan-out with them all present.
 */
import { dialectOf, type ServerId } from "../load/dialects.js";
import { CpuMeter } from "../load/measure.js";
import { openPublisher, publisherGroups, type Publisher } from "../load/publisher.js";
import { Swarm } from "../load/swarm.js";
import { processRssBytes } from "../machine.js";
import { launch, type RunningServer } from "../servers.js";
import { errorText, runRepeated, startProfile, stopProfile, warmUp, type Ctx, type PhaseResult, type ProfileResult } from "./common.js";

/** One server's many-topics result. */
export interface TopicsResult {
  server: ServerId;
  subscribers: number;
  connectMs?: number;
  /** Publisher connections (Cinder joins every topic it publishes on, at most 100 channels each; the others get as many). */
  publisherConnections?: number;
  serverRssBytes?: number;
  phases: PhaseResult[];
  /** With `--profile`: the server's CPU profile over the single-topic phases. */
  profile?: ProfileResult;
  error?: string;
}

function permutation(n: number): Int32Array {
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    const swap = order[i]!;
    order[i] = order[j]!;
    order[j] = swap;
  }
  return order;
}

/** Runs the many-topics scenario against one server. Never throws. */
export async function runTopics(ctx: Ctx, id: ServerId): Promise<TopicsResult> {
  const n = ctx.options.topicSubscribers;
  const result: TopicsResult = { server: id, subscribers: n, phases: [] };
  const dialect = dialectOf(id);
  let server: RunningServer | undefined;
  let swarm: Swarm | undefined;
  let publisher: Publisher | undefined;
  try {
    server = await launch(id, ctx.paths);
    ctx.log(`  ${id}: server pid ${server.child.pid}; connecting ${n} subscribers (own topic + shared)`);
    swarm = new Swarm({ port: server.port, dialect, batch: ctx.options.batch, topicsOf: (i) => [`t${i}`, "shared"] });
    const started = performance.now();
    await swarm.grow(n, started + ctx.options.timeoutSeconds * 1000);
    result.connectMs = performance.now() - started;
    const topics = [...Array.from({ length: n }, (_, i) => `t${i}`), "shared"];
    publisher = await openPublisher(server.port, dialect, topics, performance.now() + ctx.options.timeoutSeconds * 1000);
    result.publisherConnections = publisherGroups(topics).length;
    await warmUp(ctx, swarm, publisher, "shared", n, 5);
    const running = server;
    const meter = new CpuMeter(() => running.pids());
    const order = permutation(n);
    const single = (seq: number): string => `t${order[seq % n]!}`;
    const { topicRate, topicBurst, fixedSeconds } = ctx.options;
    const profiling = await startProfile(ctx, server);
    result.phases.push(await runRepeated(ctx, server, swarm, publisher, {
      label: "single topics fixed", mode: "fixed", size: 64, messages: Math.round(topicRate * fixedSeconds), perSecond: topicRate, topicOf: single, recipients: 1,
    }, meter));
    result.phases.push(await runRepeated(ctx, server, swarm, publisher, {
      label: "single topics burst", mode: "burst", size: 64, messages: topicBurst, topicOf: single, recipients: 1,
    }, meter));
    if (profiling) result.profile = await stopProfile(ctx, server, `${id}-topics`);
    result.phases.push(await runRepeated(ctx, server, swarm, publisher, {
      label: "shared topic burst", mode: "burst", size: 64, messages: Math.max(5, Math.round(ctx.options.burst64 / 5)), topicOf: () => "shared", recipients: n,
    }, meter));
    result.serverRssBytes = processRssBytes(server.child.pid);
  } catch (error) {
    result.error = errorText(error);
    if (server?.child.exited() !== undefined) result.error += ` [the server exited: ${server.child.exited()}]`;
    ctx.log(`  ${id}: FAILED: ${result.error}`);
  } finally {
    swarm?.closeAll();
    publisher?.close();
    await server?.child.stop();
  }
  return result;
}
