/**
 * Big rooms over real WebSockets with the official phoenix.js client: a room crossing the
 * threshold switches its observers to count mode (presence_count, then a sample as
 * presence_state), counts are right, count updates come at most once per interval under churn,
 * a late joiner gets the counts and the sample, and a room falling below `leaveBelow` goes back to
 * the full list and ordinary diffs.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { createPresence, defineChannel, defineSocket, ok, PubSub, silentLogger, type ChannelSocket, type PresenceMap } from "../src/index.js";
import { startServer, type TestServer } from "./support/server.js";
import { sleep } from "./support/raw-client.js";
import { Presence as PhoenixPresence, Socket as PhoenixSocket, type Channel as PhoenixChannel } from "phoenix";
import { WebSocket } from "ws";

const INTERVAL = 200;
const pubsub = new PubSub();
const presence = createPresence({
  pubsub,
  logger: silentLogger,
  diffWindowMs: 10,
  bigRoom: (topic) => (topic.startsWith("big:") ? { threshold: 20, leaveBelow: 15, sampleSize: 5, countIntervalMs: INTERVAL } : undefined),
});

type A = { user: string };
const Room = defineChannel({
  join(_topic: string, params: { track?: boolean }, socket: ChannelSocket<A>) {
    socket.send(params.track === true ? "track" : "state");
    return ok();
  },
  async handleInfo(message: unknown, socket: ChannelSocket<A>) {
    await presence.pushState(socket);
    if (message === "track") presence.track(socket, socket.assigns.user, { here: true });
  },
});
const socket = defineSocket<A>({
  connect: (params) => ({ user: String(params.user ?? "anon") }),
  channels: { "big:*": Room },
});

let server: TestServer | undefined;
const sockets: PhoenixSocket[] = [];
after(async () => {
  for (const s of sockets) s.disconnect();
  await presence.close();
  await server?.close();
});

async function until(check: () => boolean, what: string, ms = 5000): Promise<void> {
  for (const start = Date.now(); !check(); await sleep(10)) {
    if (Date.now() - start > ms) throw new Error(`not reached within ${ms} ms: ${what}`);
  }
}

interface Count { users: number; connections: number; mode: string; at: number }
interface Observer { channel: PhoenixChannel; seen: PhoenixPresence; counts: Count[]; events: string[] }

async function observe(topic: string, user: string, track = false): Promise<Observer> {
  server ??= await startServer({ socket, pubsub });
  const s = new PhoenixSocket(server.socketUrl, { transport: WebSocket, params: { user } });
  sockets.push(s);
  s.connect();
  const channel = s.channel(topic, { track });
  const seen = new PhoenixPresence(channel);
  const observer: Observer = { channel, seen, counts: [], events: [] };
  channel.on("presence_count", (payload: Omit<Count, "at">) => { observer.counts.push({ ...payload, at: Date.now() }); observer.events.push("presence_count"); });
  channel.on("presence_state", () => { observer.events.push("presence_state"); });
  channel.on("presence_diff", () => { observer.events.push("presence_diff"); });
  await new Promise<void>((resolve, reject) => channel.join().receive("ok", () => resolve()).receive("error", reject));
  await until(() => observer.events.includes("presence_state"), "presence_state");
  return observer;
}

const server_ = (topic: string, i: number) => ({ ownerId: `owner:${i}`, topic });
const refs = (state: PresenceMap): string[] => Object.values(state).flatMap((e) => e.metas.map((m) => m.phx_ref)).sort();
const last = (o: Observer): Count | undefined => o.counts[o.counts.length - 1];

test("phoenix.js: a room crossing the threshold switches to counts and a sample; counts are right; updates are rate-bounded; it switches back below leaveBelow", async () => {
  const topic = "big:live";
  const a = await observe(topic, "a");
  // Below the threshold: the full list and ordinary diffs, no presence_count.
  for (let i = 0; i < 10; i++) presence.track(server_(topic, i), `u${i}`, { i });
  await until(() => a.seen.list().length === 10, "10 members in list mode");
  assert.equal(a.counts.length, 0, "no presence_count below the threshold");

  // Two real members over sockets, then server-side members past the threshold (20 metas).
  await observe(topic, "m1", true);
  await observe(topic, "m2", true);
  for (let i = 10; i < 24; i++) presence.track(server_(topic, i), `u${i}`, { i });
  presence.track(server_(topic, 100), "u0", { second: true }); // a second meta of a user
  await until(() => last(a)?.connections === 27, "count mode with 27 connections");
  assert.deepEqual({ ...last(a), at: 0 }, { users: 26, connections: 27, mode: "count", at: 0 });
  assert.equal(a.counts[0]!.mode, "count");
  const switched = a.events.lastIndexOf("presence_count");
  assert.equal(a.events[switched + 1], "presence_state", "presence_count, then the sample as presence_state");
  await until(() => refs(a.seen.state as PresenceMap).length === 5, "sample of 5 metas");
  const truth = refs(await presence.list(topic));
  assert.ok(refs(a.seen.state as PresenceMap).every((r) => truth.includes(r)), "the sample holds present metas only");

  // A late joiner in count mode: counts first, then the same sample.
  const late = await observe(topic, "late");
  assert.deepEqual(late.events.slice(0, 2), ["presence_count", "presence_state"]);
  assert.equal(last(late)?.connections, 27);
  assert.deepEqual(refs(late.seen.state as PresenceMap), refs(a.seen.state as PresenceMap));

  // Churn for 1.5 s: a join and a leave every 10 ms, sampled members leaving too.
  const before = a.counts.length;
  const churnStart = Date.now();
  let next = 200;
  const sampled = Object.keys(a.seen.state);
  for (const key of sampled.filter((k) => k.startsWith("u") && k !== "u0").slice(0, 2)) presence.untrack(server_(topic, Number(key.slice(1))), key);
  while (Date.now() - churnStart < 1500) {
    presence.track(server_(topic, next), `c${next}`, {});
    if (next % 2 === 0) presence.untrack(server_(topic, next - 1), `c${next - 1}`);
    next++;
    await sleep(10);
  }
  await presence.flush();
  const users = presence.countUsers(topic);
  const connections = presence.countConnections(topic);
  await until(() => last(a)?.connections === connections && last(late)?.connections === connections, "counts settle after churn", 3000);
  assert.equal(last(a)?.users, users);
  const updates = a.counts.slice(before);
  const elapsed = updates[updates.length - 1]!.at - churnStart;
  assert.ok(updates.length <= Math.ceil(elapsed / INTERVAL) + 1, `${updates.length} count updates in ${elapsed} ms (interval ${INTERVAL})`);
  for (let i = 1; i < updates.length; i++) assert.ok(updates[i]!.at - updates[i - 1]!.at >= INTERVAL - 30, `updates ${updates[i]!.at - updates[i - 1]!.at} ms apart`);
  const diffsInChurn = a.events.slice(a.events.length - updates.length * 2 - 5).filter((e) => e === "presence_diff").length;
  assert.ok(diffsInChurn <= updates.length + 1, "at most one sample diff per count update");
  await until(() => refs(a.seen.state as PresenceMap).length === 5, "sample refilled to 5");
  const now = refs(await presence.list(topic));
  assert.ok(refs(a.seen.state as PresenceMap).every((r) => now.includes(r)), "after churn the sample holds present metas only (sampled leavers replaced)");
  assert.deepEqual(refs(late.seen.state as PresenceMap), refs(a.seen.state as PresenceMap), "every observer on the node sees the same sample");

  // Hysteresis: down to 15 metas stays in count mode, below 15 goes back to the full list.
  const list = await presence.list(topic);
  const serverOwned = Object.entries(list).flatMap(([key, e]) => e.metas.map(() => key)).filter((k) => k !== "m1" && k !== "m2");
  const untrackKey = (key: string) => {
    const n = key.startsWith("c") ? Number(key.slice(1)) : Number(key.slice(1));
    if (!presence.untrack(server_(topic, n), key)) presence.untrack(server_(topic, 100), key);
  };
  while (presence.countConnections(topic) > 15) untrackKey(serverOwned.pop()!);
  await presence.flush();
  await until(() => last(a)?.connections === 15, "15 connections counted");
  assert.equal(last(a)?.mode, "count", "15 is not below leaveBelow: still count mode");
  untrackKey(serverOwned.pop()!);
  await until(() => last(a)?.mode === "list", "back to list mode below 15");
  await until(() => a.seen.list().length === presence.countUsers(topic), "the full list again");
  assert.deepEqual(refs(a.seen.state as PresenceMap), refs(await presence.list(topic)));
  // and ordinary diffs again
  const counted = a.counts.length;
  presence.track(server_(topic, 999), "after", {});
  await until(() => a.seen.list().some((p) => p.metas.some(() => Object.keys(a.seen.state).includes("after"))), "a list-mode diff");
  await sleep(INTERVAL);
  assert.equal(a.counts.length, counted, "no presence_count in list mode");
});
