/**
 * Presence on one node, over real WebSockets: track / update / untrack, the errors, counts,
 * fetch decoration, handleMetas, coalescing, and leaves on every way a channel ends.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import {
  createPresence, defineChannel, defineSocket, ok, error, PresenceError, PubSub, silentLogger, stop,
  type ChannelSocket, type PresenceDiff, type PresenceMap,
} from "../src/index.js";
import { startServer, type TestServer } from "./support/server.js";
import { RawClient, sleep } from "./support/raw-client.js";
import { Presence as PhoenixPresence, Socket as PhoenixSocket } from "phoenix";
import { WebSocket } from "ws";

/** Resolves once `check` holds (polled every 10 ms; fails after 5 s). */
async function until(check: () => Promise<boolean>): Promise<void> {
  for (let waited = 0; !(await check()); waited += 10) {
    if (waited > 5000) throw new Error("condition not reached within 5 s");
    await sleep(10);
  }
}

const metasSeen: Array<{ topic: string; diff: PresenceDiff; keys: string[] }> = [];
let fetchCalls = 0;
const pubsub = new PubSub();
const presence = createPresence({
  pubsub,
  logger: silentLogger,
  diffWindowMs: 30,
  fetch(topic, presences: PresenceMap) {
    fetchCalls++;
    if (!topic.startsWith("deco:")) return presences;
    for (const key of Object.keys(presences)) presences[key] = { ...presences[key]!, user: { name: key.toUpperCase() } };
    return presences;
  },
  handleMetas(topic, diff, presences) {
    metasSeen.push({ topic, diff, keys: [...presences.keys()] });
  },
});

type A = { user: string };
const Room = defineChannel({
  join(_topic: string, _params: unknown, socket: ChannelSocket<A>) {
    socket.send("track");
    return ok();
  },
  async handleInfo(message: unknown, socket: ChannelSocket<A>) {
    if (message !== "track") return;
    socket.push("presence_state", await presence.list(socket.topic));
    presence.track(socket, socket.assigns.user, { status: "here" });
    // "blip" users are disconnected by the server right after they tracked (inside one diff window).
    if (socket.assigns.user.startsWith("blip")) server.endpoint.disconnect(socket.id!);
  },
  handleIn(event: string, payload: unknown, socket: ChannelSocket<A>) {
    try {
      switch (event) {
        case "crash": throw new Error("crash");
        case "stop": return stop("normal");
        case "track_again": presence.track(socket, socket.assigns.user, {}); return ok();
        case "update_fn": presence.update(socket, socket.assigns.user, (old) => ({ ...old, n: (payload as { n: number }).n })); return ok();
        case "update_missing": presence.update(socket, "nobody", {}); return ok();
        case "untrack": presence.untrack(socket, socket.assigns.user); return ok();
        default: return error({ reason: "unknown" });
      }
    } catch (caught) {
      if (caught instanceof PresenceError) return error({ reason: caught.reason });
      throw caught;
    }
  },
});

const socket = defineSocket<A>({
  connect: (params) => ({ user: String(params.user ?? "anon") }),
  id: (s) => `user:${s.assigns.user}`,
  channels: { "room:*": Room, "deco:*": Room },
});

let server: TestServer;
const clients: RawClient[] = [];
after(async () => {
  for (const c of clients) c.close();
  await presence.close();
  await server?.close();
});

async function member(user: string, topic: string): Promise<RawClient> {
  server ??= await startServer({ socket, pubsub });
  const client = await RawClient.connect(`${server.websocketUrl}?vsn=2.0.0&user=${user}`);
  clients.push(client);
  client.send(["1", "1", topic, "phx_join", {}]);
  await client.reply("1");
  await client.next((f) => f[3] === "presence_state");
  return client;
}

type DiffFrame = [null, null, string, "presence_diff", PresenceDiff];
function diffs(client: RawClient, topic: string): PresenceDiff[] {
  return client.received.flatMap((r) => (!r.binary && Array.isArray(r.json) && r.json[2] === topic && r.json[3] === "presence_diff" ? [(r.json as DiffFrame)[4]] : []));
}
async function leaveOf(client: RawClient, topic: string, key: string): Promise<void> {
  await client.waitFor(() => (diffs(client, topic).some((d) => d.leaves[key] !== undefined) ? true : undefined), 2000);
}

test("every way a channel ends removes what it tracked: leave, stop, crash, close, disconnect, duplicate join", async () => {
  const topic = "room:zombies";
  const watcher = await member("watcher", topic);
  const cases: Array<[string, (c: RawClient) => void]> = [
    ["leaver", (c) => c.send(["1", "2", topic, "phx_leave", {}])],
    ["stopper", (c) => c.send(["1", "2", topic, "stop", {}])],
    ["crasher", (c) => c.send(["1", "2", topic, "crash", {}])],
    ["closer", (c) => c.ws.terminate()],
    ["kicked", () => server.endpoint.disconnect("user:kicked")],
    ["duplicate", (c) => c.send(["3", "3", topic, "phx_join", {}])],
  ];
  for (const [user, end] of cases) {
    const client = await member(user, topic);
    await watcher.waitFor(() => (diffs(watcher, topic).some((d) => d.joins[user]) ? true : undefined), 2000);
    end(client);
    await leaveOf(watcher, topic, user);
  }
  await sleep(100);
  const keys = Object.keys(await presence.list(topic)).sort();
  assert.deepEqual(keys, ["duplicate", "watcher"], "only the watcher and the rejoined duplicate remain");
  assert.equal(presence.countConnections(topic), 2);
});

test("track twice and update of what is not tracked are refused; update keeps phx_ref_prev", async () => {
  const topic = "room:api";
  const client = await member("ann", topic);
  await sleep(50);
  client.send(["1", "5", topic, "track_again", {}]);
  assert.deepEqual((await client.reply("5"))[4], { status: "error", response: { reason: "already_tracked" } });
  client.send(["1", "6", topic, "update_missing", {}]);
  assert.deepEqual((await client.reply("6"))[4], { status: "error", response: { reason: "nopresence" } });
  const before = (await presence.getByKey(topic, "ann"))!.metas[0]!;
  client.send(["1", "7", topic, "update_fn", { n: 3 }]);
  await client.reply("7");
  const after = (await presence.getByKey(topic, "ann"))!.metas[0]!;
  assert.equal(after.status, "here");
  assert.equal(after.n, 3);
  assert.equal(after.phx_ref_prev, before.phx_ref);
  assert.notEqual(after.phx_ref, before.phx_ref);
  const update = await client.waitFor(() => diffs(client, topic).find((d) => d.joins.ann?.metas[0]?.n === 3), 2000);
  assert.equal(update.leaves.ann?.metas[0]?.phx_ref, before.phx_ref, "the same diff carries the old meta as a leave");
  client.send(["1", "8", topic, "untrack", {}]);
  await client.reply("8");
  await leaveOf(client, topic, "ann");
  assert.equal(await presence.getByKey(topic, "ann"), undefined);
});

test("countUsers counts keys, countConnections metas; several tabs share one key", async () => {
  const topic = "room:counts";
  await member("tabs", topic);
  await member("tabs", topic);
  await member("solo", topic);
  await sleep(60);
  assert.equal(presence.countUsers(topic), 2);
  assert.equal(presence.countConnections(topic), 3);
  assert.equal((await presence.list(topic)).tabs!.metas.length, 2);
});

test("fetch decorates presence_state and both sides of diffs; handleMetas sees each diff", async () => {
  const topic = "deco:1";
  const first = await member("amy", topic);
  const second = await member("bo", topic);
  const state = first.received.find((r) => !r.binary && (r.json as unknown[])[3] === "presence_state")!;
  assert.deepEqual((state as { json: unknown[] }).json[4], {}, "amy was first: empty state");
  const join = await first.waitFor(() => diffs(first, topic).find((d) => d.joins.bo), 2000);
  assert.deepEqual(join.joins.bo!.user, { name: "BO" });
  second.ws.terminate();
  await leaveOf(first, topic, "bo");
  const leave = diffs(first, topic).find((d) => d.leaves.bo)!;
  assert.deepEqual(leave.leaves.bo!.user, { name: "BO" });
  const list = await presence.list(topic);
  assert.deepEqual(list.amy!.user, { name: "AMY" });
  const seen = metasSeen.filter((m) => m.topic === topic);
  assert.ok(seen.some((m) => m.diff.leaves.bo !== undefined && m.keys.join() === "amy"), "handleMetas got the leave and the remaining keys");
});

test("changes to one topic within the diff window go out as one presence_diff", async () => {
  const topic = "room:burst";
  const watcher = await member("w", topic);
  await sleep(80);
  const before = diffs(watcher, topic).length;
  const owners = Array.from({ length: 20 }, (_, i) => `owner-${i}`);
  for (const owner of owners) presence.track({ ownerId: owner, topic }, owner, { bot: true });
  presence.untrack({ ownerId: "owner-0", topic }, "owner-0");
  await presence.flush();
  await sleep(30);
  const after = diffs(watcher, topic).slice(before);
  assert.equal(after.length, 1, "one coalesced diff");
  assert.equal(Object.keys(after[0]!.joins).length, 19);
  assert.equal(after[0]!.joins["owner-0"], undefined, "a meta tracked and untracked within the window is not joined");
  assert.deepEqual(Object.keys(after[0]!.leaves), ["owner-0"], "it goes out as a leave only");
  for (const owner of owners) presence.untrackAll(owner);
});

/** The `phx_ref`s a diff holds more than once (both sides, or twice on one side). */
function repeatedRefs(diff: PresenceDiff): string[] {
  const refs = [...Object.values(diff.joins), ...Object.values(diff.leaves)].flatMap((entry) => entry.metas.map((m) => m.phx_ref));
  return refs.filter((ref, i) => refs.indexOf(ref) !== i);
}

test("a member whose socket drops right after it tracked reaches observers as a leave only", async () => {
  const topic = "room:blips";
  const watcher = await member("watcher", topic);
  for (const user of ["blip-1", "blip-2", "blip-3"]) {
    await member(user, topic);
    await leaveOf(watcher, topic, user);
  }
  const seen = diffs(watcher, topic);
  assert.deepEqual(seen.flatMap(repeatedRefs), [], "no diff holds a meta twice");
  for (const user of ["blip-1", "blip-2", "blip-3"]) {
    assert.equal(seen.filter((d) => d.joins[user] !== undefined).length, 0, `${user} joined and left within one window: never joined`);
  }
  assert.deepEqual(Object.keys(await presence.list(topic)), ["watcher"]);
});

test("phoenix.js observer: a member disconnected by the server that rejoins at once gets one meta per diff and no zombie", async () => {
  const topic = "room:rejoin";
  server ??= await startServer({ socket, pubsub });
  const k = new PhoenixSocket(server.socketUrl, { transport: WebSocket, params: { user: "k" }, reconnectAfterMs: () => 1 });
  k.connect();
  k.channel(topic, {}).join();
  await until(async () => presence.countUsers(topic) === 1);
  const observer = new PhoenixSocket(server.socketUrl, { transport: WebSocket, params: { user: "observer" } });
  observer.connect();
  const channel = observer.channel(topic, {});
  const seen = new PhoenixPresence(channel);
  const raw: PresenceDiff[] = [];
  channel.on("presence_diff", (diff) => raw.push(diff as PresenceDiff));
  channel.join();
  await until(async () => seen.list().length === 2);
  const before = (await presence.getByKey(topic, "k"))!.metas[0]!.phx_ref;
  server.endpoint.disconnect("user:k");
  await until(async () => {
    const metas = (await presence.getByKey(topic, "k"))?.metas ?? [];
    return metas.length === 1 && metas[0]!.phx_ref !== before;
  });
  await presence.flush();
  const truth = await presence.list(topic);
  const refs = (state: Record<string, { metas: Array<{ phx_ref: string }> }>) =>
    Object.keys(state).sort().map((key) => `${key}:${state[key]!.metas.map((m) => m.phx_ref).sort().join(",")}`).join(" ");
  await until(async () => refs(seen.state as PresenceMap) === refs(truth));
  assert.deepEqual(raw.flatMap(repeatedRefs), [], "no diff holds a meta twice");
  assert.equal(refs(seen.state as PresenceMap), refs(truth), "phoenix.js (joins first) ends with the server's list");
  observer.disconnect();
  k.disconnect();
});
