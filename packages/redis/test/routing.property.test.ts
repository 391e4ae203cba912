/**
 * Topic routing over random interleavings, against the real Redis: three nodes subscribe and
 * unsubscribe local subscribers of a few topics, broadcast from any node and pause at random,
 * with lingers of 0–20 ms, so subscriptions race their own unsubscriptions, lingers and acks.
 * Seeded (CINDER_SEED to replay one). Properties:
 * - once a subscriber's `subscribe` settled, every later broadcast on its topic reaches it,
 *   exactly once, and broadcasts from one node arrive in the order they were sent;
 * - when the churn stops, each node listens in Redis to exactly the topics it has local
 *   subscribers of (no leaked subscription, none missing).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { PubSub, silentLogger, type BroadcastMessage, type Subscriber } from "@cinder/server";
import { RedisAdapter } from "../src/index.js";
import { missing, reachable, REDIS_URL } from "./support/services.js";

/** A small seeded generator (mulberry32). */
function generator(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Probe extends Subscriber {
  node: number;
  topic: string;
  /** The broadcast sequence number at the moment its subscription settled (undefined: not yet). */
  ackedAt: number | undefined;
  got: Array<{ seq: number; from: number }>;
  active: boolean;
}

const TOPICS = ["t0", "t1", "t2", "t3"];

async function run(seed: number): Promise<void> {
  const random = generator(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const namespace = `cinder-prop-${randomBytes(4).toString("hex")}`;
  const lingers = [0, 5, 20];
  const nodes = [0, 1, 2].map((i) => new PubSub({
    adapter: new RedisAdapter({ url: REDIS_URL, nodeName: `n${i}`, namespace, lingerMs: pick(lingers), logger: silentLogger }),
  }));
  const admin = new Redis(REDIS_URL);
  const probes: Probe[] = [];
  const sent: Array<{ seq: number; from: number; topic: string }> = [];
  let seq = 0;
  try {
    await Promise.all(nodes.map((node) => node.start()));
    for (let op = 0; op < 150; op++) {
      const roll = random();
      if (roll < 0.3) {
        const node = Math.floor(random() * 3);
        const probe: Probe = {
          node, topic: pick(TOPICS), ackedAt: undefined, got: [], active: true,
          deliver(message: BroadcastMessage) { probe.got.push(message.payload as { seq: number; from: number }); },
        };
        probes.push(probe);
        const routed = nodes[node]!.subscribe(probe.topic, probe);
        if (routed === undefined) probe.ackedAt = seq;
        else void routed.then(() => { probe.ackedAt = seq; });
      } else if (roll < 0.5) {
        const live = probes.filter((probe) => probe.active);
        if (live.length > 0) {
          const probe = pick(live);
          probe.active = false;
          nodes[probe.node]!.unsubscribe(probe.topic, probe);
        }
      } else if (roll < 0.85) {
        const from = Math.floor(random() * 3);
        const topic = pick(TOPICS);
        const message = { seq: ++seq, from };
        sent.push({ ...message, topic });
        nodes[from]!.broadcast(topic, "e", message);
      } else {
        await new Promise((resolve) => setTimeout(resolve, Math.floor(random() * 15)));
      }
    }
    const survivors = probes.filter((probe) => probe.active);
    const expected = (probe: Probe): number[] => sent
      .filter((m) => m.topic === probe.topic && probe.ackedAt !== undefined && m.seq > probe.ackedAt)
      .map((m) => m.seq);
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline && !survivors.every((probe) => probe.ackedAt !== undefined
      && expected(probe).every((s) => probe.got.some((g) => g.seq === s)))) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    for (const probe of survivors) {
      assert.notEqual(probe.ackedAt, undefined, `seed ${seed}: a subscription on n${probe.node} never settled`);
      const seqs = probe.got.map((g) => g.seq);
      for (const s of expected(probe)) assert.ok(seqs.includes(s), `seed ${seed}: n${probe.node} ${probe.topic} missed #${s} sent after its subscription settled`);
      assert.equal(new Set(seqs).size, seqs.length, `seed ${seed}: a duplicate delivery`);
      for (const from of [0, 1, 2]) {
        const order = probe.got.filter((g) => g.from === from).map((g) => g.seq);
        assert.deepEqual(order, [...order].sort((x, y) => x - y), `seed ${seed}: broadcasts from n${from} out of order`);
      }
    }
    // Quiet now: after the longest linger, Redis's subscriptions match the local subscribers.
    await new Promise((resolve) => setTimeout(resolve, 150));
    for (const topic of TOPICS) {
      const wanted = [0, 1, 2].filter((i) => nodes[i]!.subscriberCount(topic) > 0).length;
      const [, count] = await admin.pubsub("NUMSUB", `${namespace}:t:{${topic}}`) as [string, number];
      assert.equal(count, wanted, `seed ${seed}: ${topic} has ${count} Redis subscribers for ${wanted} nodes with local subscribers`);
    }
  } finally {
    admin.disconnect();
    await Promise.all(nodes.map((node) => node.close()));
  }
}

test("topic routing over random interleavings: no broadcast missed after a subscription settled; Redis subscriptions converge", { timeout: 60_000 }, async (t) => {
  if (!(await reachable(REDIS_URL))) { missing(t, `Redis at ${REDIS_URL}`); return; }
  const seeds = process.env.CINDER_SEED !== undefined ? [Number(process.env.CINDER_SEED)] : Array.from({ length: 8 }, () => Math.floor(Math.random() * 2 ** 31));
  for (const seed of seeds) await run(seed);
});
