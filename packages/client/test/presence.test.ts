/**
 * Presence: the pure `syncState`/`syncDiff` semantics, pending diffs keyed by join_ref, and
 * sync through joins, leaves and rejoins against the server's presence.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { Presence, Socket, type PresenceEntry, type PresenceState } from "../src/index.js";
import { clientSocket, inState, topic, useCleanup } from "./support/client.js";
import { startServer, waitUntil, type TestServer } from "./support/server.js";

let server: TestServer;
before(async () => { server = await startServer(); });
after(async () => { await server.close(); });
useCleanup();

const entry = (...refs: string[]): PresenceEntry => ({ metas: refs.map((phx_ref) => ({ phx_ref, n: phx_ref })) });
const refsOf = (state: PresenceState, key: string): string[] => (state[key]?.metas ?? []).map((m) => m.phx_ref);

test("syncDiff: joins keep known metas first, leaves remove by phx_ref, empty keys go; re-applying is harmless", () => {
  const joins: string[] = [];
  const leaves: Array<[string, number]> = [];
  let state: PresenceState = Presence.syncDiff({}, { joins: { a: entry("1"), b: entry("2") }, leaves: {} },
    (key) => joins.push(key));
  state = Presence.syncDiff(state, { joins: { a: entry("3") }, leaves: { b: entry("2") } },
    (key) => joins.push(key), (key, current) => leaves.push([key, current.metas.length]));
  assert.deepEqual(refsOf(state, "a"), ["1", "3"]);
  assert.equal(state.b, undefined);
  assert.deepEqual(joins, ["a", "b", "a"]);
  assert.deepEqual(leaves, [["b", 0]]);
  const again = Presence.syncDiff(state, { joins: { a: entry("3") }, leaves: { zzz: entry("9") } });
  assert.deepEqual(refsOf(again, "a"), ["1", "3"], "no duplicate metas; unknown leaves ignored");
  assert.equal(Object.getPrototypeOf(again), null, "null-prototype state");
});

test("syncState: computes joins and leaves against the current state, without mutating its inputs", () => {
  const current: PresenceState = { a: entry("1", "2"), gone: entry("9") };
  const next: PresenceState = { a: { metas: [{ phx_ref: "2" }, { phx_ref: "4" }], user: { name: "A" } }, fresh: entry("5") };
  const nextCopy = JSON.parse(JSON.stringify(next)) as PresenceState;
  const joined: Array<[string, string[]]> = [];
  const left: Array<[string, string[]]> = [];
  const state = Presence.syncState(current, next,
    (key, _cur, p) => joined.push([key, p.metas.map((m) => m.phx_ref)]),
    (key, _cur, p) => left.push([key, p.metas.map((m) => m.phx_ref)]));
  assert.deepEqual(joined, [["a", ["4"]], ["fresh", ["5"]]]);
  assert.deepEqual(left.sort(), [["a", ["1"]], ["gone", ["9"]]]);
  assert.deepEqual(refsOf(state, "a"), ["2", "4"]);
  assert.deepEqual(state.a?.user, { name: "A" }, "fetched fields kept");
  assert.deepEqual(next, nextCopy, "input not mutated");
  assert.deepEqual(Object.keys(current), ["a", "gone"]);
});

test("keys like __proto__ and constructor are plain keys; list() with a chooser", () => {
  const state = Presence.syncState({}, JSON.parse('{"__proto__":{"metas":[{"phx_ref":"p"}]},"constructor":{"metas":[{"phx_ref":"c"}]},"1":{"metas":[{"phx_ref":"one"}]}}') as PresenceState);
  assert.deepEqual(Presence.list(state, (key, p) => `${key}:${p.metas.length}`).sort(), ["1:1", "__proto__:1", "constructor:1"]);
  assert.equal(({} as Record<string, unknown>).metas, undefined, "Object.prototype untouched");
  const left = Presence.syncDiff(state, { joins: {}, leaves: JSON.parse('{"__proto__":{"metas":[{"phx_ref":"p"}]}}') as PresenceState });
  assert.deepEqual(Object.getOwnPropertyNames(left).sort(), ["1", "constructor"]);
});

test("diffs are held until the presence_state of the current join_ref, also after a rejoin", () => {
  const socket = new Socket("ws://127.0.0.1:1/socket", { reconnectAfterMs: () => 60_000 });
  const channel = socket.channel("presence:offline");
  channel.join(60_000);
  const presence = new Presence(channel);
  let syncs = 0;
  presence.onSync(() => { syncs += 1; });
  assert.ok(presence.inPendingSyncState());
  channel.trigger("presence_diff", { joins: { b: entry("2") }, leaves: {} });
  assert.equal(syncs, 0);
  assert.equal(presence.pendingDiffs.length, 1);
  channel.trigger("presence_state", { a: entry("1") });
  assert.equal(syncs, 1);
  assert.deepEqual(presence.list((key) => key), ["a", "b"]);
  channel.trigger("presence_diff", { joins: {}, leaves: { a: entry("1") } });
  assert.equal(syncs, 2);
  assert.deepEqual(presence.list((key) => key), ["b"]);
  // a rejoin: new join_ref, diffs wait again for the fresh state
  channel.rejoin();
  assert.ok(presence.inPendingSyncState());
  channel.trigger("presence_diff", { joins: { c: entry("3") }, leaves: {} });
  assert.equal(syncs, 2);
  channel.trigger("presence_state", { b: entry("2") });
  assert.equal(syncs, 3);
  assert.deepEqual(presence.list((key) => key), ["b", "c"]);
  channel.leave();
  socket.disconnect();
});

test("online/offline: the first presence_online_state is not news, nor a correction; changes are, and arrivals after a rejoin; repeats are ignored", () => {
  const socket = new Socket("ws://127.0.0.1:1/socket", { reconnectAfterMs: () => 60_000 });
  const channel = socket.channel("presence:online");
  channel.join(60_000);
  const presence = new Presence(channel);
  const events: string[] = [];
  let syncs = 0;
  presence.onOnline((key) => events.push(`online:${key}`));
  presence.onOffline((key) => events.push(`offline:${key}`));
  presence.onSync(() => { syncs += 1; });
  assert.deepEqual(presence.online(), []);
  channel.trigger("presence_online_state", { keys: ["a", "b"] });
  assert.deepEqual([presence.online(), events, syncs], [["a", "b"], [], 1], "who was online at the join is not news");
  channel.trigger("presence_online", { key: "c" });
  channel.trigger("presence_online", { key: "c" });
  channel.trigger("presence_offline", { key: "a" });
  channel.trigger("presence_offline", { key: "zed" });
  channel.trigger("presence_online", { nokey: 1 });
  assert.deepEqual(events, ["online:c", "offline:a"], "one event per change; repeats and bad payloads ignored");
  assert.equal(syncs, 3);
  assert.equal(presence.isOnline("c"), true);
  assert.equal(presence.isOnline("a"), false);
  // A corrected state under the same join (a node that finished syncing) is not news.
  channel.trigger("presence_online_state", { keys: ["b", "c", "e"] });
  assert.deepEqual(events.slice(2), [], "a correction reports nothing");
  assert.deepEqual(presence.online().sort(), ["b", "c", "e"]);
  // After a rejoin, the fresh state reports who came online meanwhile; who is missing is dropped quietly.
  channel.rejoin();
  channel.trigger("presence_online_state", { keys: ["c", "d"] });
  assert.deepEqual(events.slice(2), ["online:d"]);
  assert.deepEqual(presence.online().sort(), ["c", "d"]);
  channel.leave();
  socket.disconnect();
});

interface Member {
  socket: Socket;
  presence: Presence;
  syncs: number;
  events: string[];
}

function member(t: string, user: string, rejoinAfterMs = 50): Member {
  const socket = clientSocket(server.socketUrl, { params: { user }, rejoinAfterMs: () => rejoinAfterMs });
  const channel = socket.channel(t, { meta: { device: `${user}-device` } });
  const presence = new Presence(channel);
  const m: Member = { socket, presence, syncs: 0, events: [] };
  presence.onSync(() => { m.syncs += 1; });
  presence.onJoin((key, current) => m.events.push(`join:${key}:${current ? "known" : "new"}`));
  presence.onLeave((key, current) => m.events.push(`leave:${key}:${current.metas.length}`));
  channel.join();
  return m;
}

const keys = (m: Member): string[] => m.presence.list((key) => key).sort();
const metaCount = (m: Member, key: string): number => m.presence.state[key]?.metas.length ?? 0;

test("presence over the server: joins, a second meta for the same key, leaves, and a rejoin without duplicates", async () => {
  const t = topic("presence");
  const a = member(t, "alice");
  await waitUntil(() => keys(a).includes("alice"), 3000, "alice sees herself");
  assert.ok(a.syncs >= 1);
  assert.deepEqual(a.presence.state.alice?.metas[0]?.device, "alice-device");
  const b = member(t, "bob");
  await waitUntil(() => keys(a).includes("bob") && keys(b).join() === "alice,bob", 3000, "both see both");
  assert.ok(a.events.includes("join:bob:new"));
  // bob on a second connection: one key, two metas
  const b2 = member(t, "bob");
  await waitUntil(() => metaCount(a, "bob") === 2, 3000, "two metas for bob");
  assert.ok(a.events.includes("join:bob:known"));
  b2.presence.channel.leave();
  await waitUntil(() => metaCount(a, "bob") === 1, 3000, "one bob meta left");
  assert.ok(a.events.includes("leave:bob:1"));
  b.presence.channel.leave();
  await waitUntil(() => !keys(a).includes("bob"), 3000, "bob gone");
  assert.ok(a.events.includes("leave:bob:0"));
  // alice's channel crashes and rejoins: a fresh presence_state, her new meta replaces the old
  const before = a.presence.state.alice?.metas[0]?.phx_ref;
  const syncsBefore = a.syncs;
  a.presence.channel.push("crash", {});
  await inState(a.presence.channel, "errored", 2000);
  await inState(a.presence.channel, "joined", 3000);
  await waitUntil(() => {
    const refs = a.presence.state.alice?.metas.map((m) => m.phx_ref) ?? [];
    return refs.length === 1 && refs[0] !== before && !a.presence.inPendingSyncState();
  }, 3000, "alice tracked again once, state in sync");
  assert.ok(a.syncs > syncsBefore);
  assert.deepEqual(keys(a), ["alice"]);
});

test("update_meta: one diff with the new meta joining and the old leaving (phx_ref_prev)", async () => {
  const t = topic("presence");
  const a = member(t, "carol");
  await waitUntil(() => keys(a).includes("carol"), 3000, "carol listed");
  const old = a.presence.state.carol?.metas[0]?.phx_ref;
  await a.presence.channel.call("update_meta", { status: "away" });
  await waitUntil(() => a.presence.state.carol?.metas[0]?.status === "away", 3000, "updated meta");
  const metas = a.presence.state.carol?.metas ?? [];
  assert.equal(metas.length, 1);
  assert.equal(metas[0]?.phx_ref_prev, old);
});

test("count() and onCount: counted from the list below the threshold, the server's presence_count in a big room, and back", async () => {
  const t = topic("bigpresence");
  const a = member(t, "ann");
  const counts: string[] = [];
  a.presence.onCount((c) => counts.push(`${c.mode}:${c.users}/${c.connections}`));
  await waitUntil(() => keys(a).includes("ann"), 3000, "ann listed");
  assert.deepEqual(a.presence.count(), { users: 1, connections: 1, mode: "list" });
  assert.equal(a.presence.sampled, false);
  const b = member(t, "ben");
  const b2 = member(t, "ben");
  await waitUntil(() => a.presence.count().connections === 3, 3000, "3 connections in list mode");
  assert.deepEqual(a.presence.count(), { users: 2, connections: 3, mode: "list" });
  const c = member(t, "cid");
  await waitUntil(() => a.presence.sampled, 3000, "count mode at 4 connections");
  assert.deepEqual(a.presence.count(), { users: 3, connections: 4, mode: "count" });
  await waitUntil(() => a.presence.list().length <= 2 && a.presence.list().length > 0, 3000, "a sample of at most 2 metas");
  assert.ok(counts.includes("count:3/4"), counts.join(" "));
  // A late joiner gets the counts at once; its own meta is counted after the next update.
  const d = member(t, "dee");
  await waitUntil(() => d.presence.sampled && d.presence.count().connections === 5 && a.presence.count().connections === 5, 3000, "5 connections");
  assert.ok(d.presence.list().reduce((n, p) => n + p.metas.length, 0) <= 2, "the late joiner's state is the sample");
  // Below leaveBelow (3): the full list again, counted from it.
  d.presence.channel.leave();
  c.presence.channel.leave();
  b2.presence.channel.leave();
  await waitUntil(() => !a.presence.sampled, 3000, "list mode again");
  await waitUntil(() => keys(a).join() === "ann,ben", 3000, "the full list again");
  assert.deepEqual(a.presence.count(), { users: 2, connections: 2, mode: "list" });
  assert.equal(counts[counts.length - 1], "list:2/2");
  for (const m of [a, b]) m.presence.channel.leave();
});
