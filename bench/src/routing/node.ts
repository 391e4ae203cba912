/**
 * One node of the routing bench (a child process): a PubSub on a RedisAdapter with the routing
 * and engine it is given, one counting subscriber per topic it owns, and commands over IPC:
 * publish broadcasts at a fixed rate on random topics, churn topics, report counters.
 */
import { PubSub, silentLogger, type BroadcastMessage } from "@cinder/server";
import { RedisAdapter, type RedisRouting } from "@cinder/redis";

/** What the driver sends a node. */
export type NodeCommand =
  | { kind: "publish"; count: number; perSecond: number; topics: number }
  | { kind: "churn"; cycles: number; concurrency: number }
  | { kind: "stats" };

/** What a node answers. */
export type NodeReply =
  | { kind: "ready" }
  | { kind: "published"; count: number }
  | { kind: "churned"; cycles: number; ackMs: number[] }
  | { kind: "stats"; deliveries: number; cpuMicros: number; received: number; published: number; subscribeCommands: number; channelsSubscribed: number };

const config = JSON.parse(process.argv[2]!) as {
  name: string; namespace: string; routing: RedisRouting; url?: string; cluster?: string[]; owned: number[]; lingerMs: number;
};
const adapter = new RedisAdapter({
  nodeName: config.name, namespace: config.namespace, routing: config.routing, lingerMs: config.lingerMs, logger: silentLogger,
  ...(config.cluster !== undefined ? { cluster: config.cluster } : { url: config.url! }),
});
const pubsub = new PubSub({ adapter });
let deliveries = 0;
const counter = { deliver(_message: BroadcastMessage): void { deliveries++; } };
const send = (reply: NodeReply): void => { process.send!(reply); };

await pubsub.start();
await Promise.all(config.owned.map((i) => pubsub.subscribe(`topic:${i}`, counter)));

function publish(count: number, perSecond: number, topics: number): void {
  const tick = 10;
  const perTick = Math.max(1, Math.round(perSecond * tick / 1000));
  let sent = 0;
  const timer = setInterval(() => {
    for (let i = 0; i < perTick && sent < count; i++, sent++) {
      pubsub.broadcast(`topic:${Math.floor(Math.random() * topics)}`, "m", { n: sent });
    }
    if (sent >= count) {
      clearInterval(timer);
      send({ kind: "published", count: sent });
    }
  }, tick);
}

/** Subscribes and unsubscribes fresh topics, `concurrency` at a time: the subscription churn topic routing costs. */
async function churn(cycles: number, concurrency: number): Promise<void> {
  const ackMs: number[] = [];
  let next = 0;
  const one = async (): Promise<void> => {
    while (next < cycles) {
      const topic = `churn:${config.name}:${next++}`;
      const subscriber = { deliver(): void {} };
      const started = performance.now();
      await pubsub.subscribe(topic, subscriber);
      ackMs.push(performance.now() - started);
      pubsub.unsubscribe(topic, subscriber);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, one));
  send({ kind: "churned", cycles, ackMs });
}

process.on("message", (command: NodeCommand) => {
  if (command.kind === "publish") publish(command.count, command.perSecond, command.topics);
  else if (command.kind === "churn") void churn(command.cycles, command.concurrency);
  else {
    const usage = process.cpuUsage();
    const stats = adapter.stats();
    send({
      kind: "stats", deliveries, cpuMicros: usage.user + usage.system, received: stats.received, published: stats.published,
      subscribeCommands: stats.subscribeCommands, channelsSubscribed: stats.channelsSubscribed,
    });
  }
});
process.on("disconnect", () => { void pubsub.close().finally(() => process.exit(0)); });
send({ kind: "ready" });
