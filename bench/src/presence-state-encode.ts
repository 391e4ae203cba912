/**
 * The server's cost of `presence_state` in a join storm, apart from sockets: M members join one
 * topic one after another, each first getting the topic's list as a V2 frame (as the conformance
 * channel does), encoded from `presence.list` (every joiner encodes the list) or from
 * `presence.encodedList` (once per change). Prints the process CPU of each.
 *
 *   node bench/dist/src/presence-state-encode.js [--members 10000]
 */
import { parseArgs } from "node:util";
import { createPresence, PubSub, silentLogger, V2Serializer } from "@cinder/server";

/** Runs one storm and returns CPU seconds and bytes of all presence_state frames. */
async function storm(members: number, cached: boolean): Promise<{ cpuSeconds: number; bytes: number }> {
  const presence = createPresence({ pubsub: new PubSub(), logger: silentLogger, diffWindowMs: 25 });
  const topic = "presence:bench";
  const start = process.cpuUsage();
  let bytes = 0;
  for (let i = 0; i < members; i++) {
    const payload = cached ? await presence.encodedList(topic) : await presence.list(topic);
    bytes += V2Serializer.encode({ join_ref: String(i), ref: null, topic, event: "presence_state", payload }).length;
    presence.track({ ownerId: `o${i}`, topic }, `user-${i}`, { online_at: Date.now() });
  }
  const used = process.cpuUsage(start);
  await presence.close();
  return { cpuSeconds: (used.user + used.system) / 1e6, bytes };
}

const { values } = parseArgs({ options: { members: { type: "string", default: "10000" } } });
const members = Number(values.members);
if (!Number.isInteger(members) || members < 1) throw new Error("--members must be a positive integer");
const plain = await storm(members, false);
const cached = await storm(members, true);
console.log(`members ${members}: presence_state frames ${(plain.bytes / 1e9).toFixed(2)} GB`);
console.log(`  encoded per joiner (presence.list):       ${plain.cpuSeconds.toFixed(2)} CPU-s`);
console.log(`  encoded once per change (encodedList):    ${cached.cpuSeconds.toFixed(2)} CPU-s (${(plain.cpuSeconds / cached.cpuSeconds).toFixed(1)}x fewer)`);
