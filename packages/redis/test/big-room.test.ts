/**
 * Big rooms on two nodes joined by Redis (conformance server processes, `CINDER_BIG_ROOM`):
 * phoenix.js members on both nodes; once the room passes the threshold every client on every
 * node gets `presence_count`, and the counts agree across nodes (they come from the replicated
 * tracker state) after joins, a second meta of a user and leaves on either node.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { Presence, Socket } from "phoenix";
import { WebSocket } from "ws";
import { startNode, until, type Node } from "./support/cluster.js";
import { missing, reachable, REDIS_URL } from "./support/services.js";

interface Count { users: number; connections: number; mode: string }
interface Member { socket: Socket; presence: Presence; counts: Count[]; node: string; user: string; events: string[] }

function member(node: Node, user: string, topic: string): Member {
  const socket = new Socket(`ws://127.0.0.1:${node.port}/socket`, { transport: WebSocket, params: { user } });
  socket.connect();
  const channel = socket.channel(topic, {});
  const presence = new Presence(channel);
  const m: Member = { socket, presence, counts: [], node: node.name, user, events: [] };
  const size = (side: Record<string, { metas: unknown[] }>) => Object.values(side).reduce((n, e) => n + e.metas.length, 0);
  channel.on("presence_count", (count: Count) => { m.counts.push(count); m.events.push(`count:${count.mode}:${count.connections}`); });
  channel.on("presence_state", (state: Record<string, { metas: unknown[] }>) => m.events.push(`state:${size(state)}`));
  channel.on("presence_diff", (diff: { joins: Record<string, { metas: unknown[] }>; leaves: Record<string, { metas: unknown[] }> }) => m.events.push(`diff:+${size(diff.joins)}-${size(diff.leaves)}`));
  channel.join();
  return m;
}

const last = (m: Member): string => {
  const c = m.counts[m.counts.length - 1];
  return c === undefined ? "none" : `${c.mode}:${c.users}/${c.connections}`;
};

test("two nodes: a big room's counts are the same on every node (replicated state), through joins and leaves on both", { timeout: 60_000 }, async (t) => {
  if (!(await reachable(REDIS_URL))) { missing(t, `Redis at ${REDIS_URL}`); return; }
  const namespace = `cinder-bigroom-${randomBytes(4).toString("hex")}`;
  const env = { CINDER_BIG_ROOM: JSON.stringify({ threshold: 6, leaveBelow: 4, sampleSize: 2, countIntervalMs: 150 }) };
  const nodes = await Promise.all(["b1", "b2"].map((name) => startNode(name, REDIS_URL, namespace, env)));
  const [n1, n2] = nodes as [Node, Node];
  const members: Member[] = [];
  try {
    const topic = "presence:big:stage";
    for (let i = 0; i < 4; i++) members.push(member(n1, `one${i}`, topic), member(n2, `two${i}`, topic));
    members.push(member(n2, "one0", topic)); // user one0 on both nodes: 8 users, 9 connections
    const agree = (expected: string) => until(() => members.every((m) => last(m) === expected), 10_000, () => `every member on both nodes at ${expected} (${members.map(last).join(" ")})`);
    await agree("count:8/9");
    // The sample's presence_state follows the first presence_count in its own frame: a member may
    // have read the count and not yet the sample, so the check waits for it.
    const sample = (m: Member) => m.presence.list().reduce((n, p) => n + p.metas.length, 0);
    await until(() => members.every((m) => sample(m) >= 1 && sample(m) <= 2), 10_000,
      () => `a sample of 1–2 metas on every member (${members.map((m) => `${m.node} ${m.user}: ${sample(m)} after ${m.events.join(" ")}`).join("; ")})`);
    // Two leave on n1 and one on n2: 6 users, 6 connections, still count mode.
    for (const m of [members[0]!, members[2]!, members[3]!]) m.socket.disconnect();
    const staying = members.filter((_, i) => i !== 0 && i !== 2 && i !== 3);
    const agreeStaying = (expected: string) => until(() => staying.every((m) => last(m) === expected), 10_000, () => `staying members at ${expected} (${staying.map(last).join(" ")})`);
    await agreeStaying("count:6/6");
    // Down to 3 connections (below leaveBelow 4): back to the full list on both nodes.
    for (const m of staying.slice(0, 3)) m.socket.disconnect();
    const rest = staying.slice(3);
    await until(() => rest.every((m) => last(m).startsWith("list:") && m.presence.list().length === 3), 10_000, () => `the full list of 3 on both nodes (${rest.map(last).join(" ")})`);
    assert.ok(new Set(rest.map((m) => m.node)).size === 2, "members left on both nodes");
    for (const m of rest) assert.deepEqual(m.presence.list((key) => key).sort(), rest.map((r) => r.user).sort());
  } finally {
    for (const m of members) m.socket.disconnect();
    await Promise.all(nodes.map((node) => node.stop("SIGKILL")));
  }
});
