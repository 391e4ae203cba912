// docs/protocol.md §10 items 52–58 and the presence part of 33: the `presence:*` channel driven by a client's
// `Presence` (phoenix.js's or @cinder/client's, see harness/clients.ts `clients`; over the recording
// transport, so the exact frames can be asserted too) and by raw clients. Diffs within 25 ms may be
// coalesced by the server, so the tests assert the resulting state and the shapes of the diffs that
// carry a change, never "one diff per change". The scenarios run over every transport
// (`[websocket]`, `[longpoll]`); 56 (an abrupt socket close) is WebSocket-only — its long-poll
// counterpart, a session that stops polling, is item 50 in longpoll.scenarios.ts. Run by
// presence.phoenix.test.ts and presence.cinder.test.ts.
import { test } from "node:test";
import assert from "node:assert/strict";
import type WebSocket from "ws";
import type { Channel, Presence, PresenceDiffPayload, PresenceEntry, PresenceMeta, PresenceState } from "phoenix";
import {
  LONGPOLL_REAP_MAX_MS, RawWebSocket, asV2, connected, delay, joinOk, outcome, phxSocket, server, serverDropCodes, topic,
  transports, waitUntil, type Client, type Phx, type Via, type WireEntry, type WireLog,
} from "./harness/index.js";

// ---------------------------------------------------------------------------------------------
// helpers

/** A fresh `presence:…` (or `presence:fetch:…`) topic. */
function presTopic(name: string, fetch = false): string {
  const base = topic(name).slice("echo:".length);
  return fetch ? `presence:fetch:${base}` : `presence:${base}`;
}

let users = 0;
/** A fresh user name (the presence key). */
function uname(prefix: string): string {
  users += 1;
  return `${prefix}-${process.pid}-${users}-${Math.random().toString(36).slice(2, 6)}`;
}

/** Own property only: `obj["__proto__"]` must not fall through to Object.prototype. */
function own<T>(obj: Record<string, T> | undefined, key: string): T | undefined {
  return obj !== undefined && Object.hasOwn(obj, key) ? obj[key] : undefined;
}

const clone = <T>(v: T): T => (v === undefined ? v : JSON.parse(JSON.stringify(v)) as T);
const refsOf = (p: PresenceEntry | undefined): string[] => (p?.metas ?? []).map((m) => m.phx_ref);
const byKey = <T extends [string, ...unknown[]]>(a: T, b: T): number => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);
const byRef = (a: PresenceMeta, b: PresenceMeta): number => (a.phx_ref < b.phx_ref ? -1 : a.phx_ref > b.phx_ref ? 1 : 0);

/** A presence map as sorted [key, metas sorted by phx_ref] pairs (comparable across prototypes). */
function view(state: PresenceState, exclude: string[] = []): Array<[string, PresenceMeta[]]> {
  return Object.getOwnPropertyNames(state)
    .filter((k) => !exclude.includes(k))
    .map((k): [string, PresenceMeta[]] => [k, [...(own(state, k)?.metas ?? [])].sort(byRef)])
    .sort(byKey);
}

/** The documented "listBy" idiom: first meta + count of the rest, as sorted [key, count] pairs. */
function counts(pres: Presence): Array<[string, number]> {
  return pres.list((id, { metas: [_first, ...rest] }): [string, number] => [id, rest.length + 1]).sort(byKey);
}

/** presence_diff frames on `t` in a log (seq ≥ from), with their payloads. */
function diffFrames(log: WireLog, t: string, from = 0): Array<{ e: WireEntry; d: PresenceDiffPayload }> {
  return log.all({ dir: "in", topic: t, event: "presence_diff" }, from).map((e) => ({ e, d: asV2(e)![4] as PresenceDiffPayload }));
}

/** Waits for a presence_diff on `t` whose payload satisfies `pred`. */
async function waitDiff(log: WireLog, t: string, pred: (d: PresenceDiffPayload) => boolean, desc: string, ms = 3000, from = 0): Promise<{ e: WireEntry; d: PresenceDiffPayload }> {
  const e = await log.wait((x) => {
    const v = asV2(x);
    return x.dir === "in" && v !== undefined && v[2] === t && v[3] === "presence_diff" && pred(v[4] as PresenceDiffPayload);
  }, desc, ms, from);
  return { e, d: asV2(e)![4] as PresenceDiffPayload };
}

const hasRef = (p: PresenceEntry | undefined, ref: string): boolean => refsOf(p).includes(ref);

/** A client on a presence topic, with everything its `Presence` reported. */
interface Member {
  user: string;
  t: string;
  phx: Phx;
  ch: Channel;
  pres: Presence;
  syncs: number;
  /** channel join_ref at each onSync */
  syncJoinRefs: Array<string | null>;
  /** listBy counts at each onSync */
  lists: Array<Array<[string, number]>>;
  joins: Array<{ key: string; current: PresenceEntry | undefined; joined: PresenceEntry }>;
  leaves: Array<{ key: string; current: PresenceEntry; left: PresenceEntry }>;
  /** presence_diff events that arrived while the Presence was pending (and were queued) */
  queued: number;
}

/** Creates (not joins) a channel + Presence of `client` on `t` for `user` (own socket over `via` unless `phx`). */
function member(t: string, user: string, opts: { client: Client; meta?: Record<string, unknown>; phx?: Phx; via?: Via; online?: boolean }): Member {
  const phx = opts.phx ?? phxSocket(server, { client: opts.client, params: { user }, via: opts.via ?? "websocket" });
  const ch = phx.socket.channel(t, { ...(opts.meta ? { meta: opts.meta } : {}), ...(opts.online ? { online: true } : {}) });
  const m: Member = {
    user, t, phx, ch, pres: undefined as unknown as Presence, syncs: 0, syncJoinRefs: [], lists: [], joins: [], leaves: [], queued: 0,
  };
  // bound before Presence's own handler: sees whether Presence is about to queue this diff
  ch.on("presence_diff", () => { if (m.pres.inPendingSyncState()) m.queued += 1; });
  m.pres = new phx.client.Presence(ch);
  m.pres.onJoin((key, current, joined) => { m.joins.push({ key, current: clone(current), joined: clone(joined) }); });
  m.pres.onLeave((key, current, left) => { m.leaves.push({ key, current: clone(current), left: clone(left) }); });
  m.pres.onSync(() => {
    m.syncs += 1;
    m.syncJoinRefs.push(ch.joinRef());
    m.lists.push(counts(m.pres));
  });
  return m;
}

const dump = (m: Member) => () => `${m.user} state: ${JSON.stringify(view(m.pres.state))}\n${m.phx.log.dump()}`;

/**
 * Joins a member and waits until its own meta is listed (the one under its key that was not in
 * its presence_state: joins are sequential in these tests). Returns that meta.
 */
async function joinTracked(m: Member, ms = 3000): Promise<PresenceMeta> {
  await connected(m.phx);
  await joinOk(m.phx, m.ch);
  const jr = m.ch.joinRef();
  const st = await m.phx.log.wait({ dir: "in", topic: m.t, event: "presence_state", joinRef: jr }, `presence_state for ${m.user}`, ms);
  const before = refsOf(own(asV2(st)![4] as PresenceState, m.user));
  const mine = () => (own(m.pres.state, m.user)?.metas ?? []).filter((x) => !before.includes(x.phx_ref));
  await waitUntil(() => mine().length > 0, ms, `${m.user}'s own meta listed`, dump(m));
  assert.equal(mine().length, 1, `one own meta for ${m.user}`);
  return clone(mine()[0]!);
}

/** A raw client tracked on `t`; returns the client, its join_ref and its own meta (from its diff). */
async function rawMember(t: string, user: string, meta?: Record<string, unknown>, joinRef?: string): Promise<{ c: RawWebSocket; jr: string; meta: PresenceMeta }> {
  const c = await RawWebSocket.connect(server, { params: { user } });
  const jr = await c.joinOk(t, meta ? { meta } : {}, joinRef);
  const st = await c.log.wait({ dir: "in", topic: t, event: "presence_state", joinRef: jr }, `presence_state for ${user}`);
  const before = refsOf(own(asV2(st)![4] as PresenceState, user));
  const { d } = await waitDiff(c.log, t, (x) => refsOf(own(x.joins, user)).some((r) => !before.includes(r)), `${user}'s own join diff`, 3000, st.seq);
  const mine = own(d.joins, user)!.metas.filter((x) => !before.includes(x.phx_ref));
  assert.equal(mine.length, 1);
  return { c, jr, meta: mine[0]! };
}

/** The truth: a fresh raw client's presence_state (pushed before it tracks itself), after `settleMs`. */
async function truthOf(t: string, settleMs = 100): Promise<{ user: string; state: PresenceState }> {
  await delay(settleMs);
  const user = uname("probe");
  const probe = await RawWebSocket.connect(server, { params: { user } });
  const jr = await probe.joinOk(t);
  const st = await probe.log.wait({ dir: "in", topic: t, event: "presence_state", joinRef: jr }, "probe presence_state");
  return { user, state: asV2(st)![4] as PresenceState };
}

/** Asserts a member's Presence equals the server's state: same keys, same metas, no duplicates. */
async function assertMatchesTruth(m: Member, t: string, desc: string): Promise<void> {
  const truth = await truthOf(t);
  const detail = () => `${desc}\n  server (fresh presence_state): ${JSON.stringify(view(truth.state))}` +
    `\n  ${m.user}'s Presence:        ${JSON.stringify(view(m.pres.state, [truth.user]))}\n${m.phx.log.dump(60)}`;
  try {
    await waitUntil(() => JSON.stringify(view(m.pres.state, [truth.user])) === JSON.stringify(view(truth.state)), 1000, desc, detail);
  } catch (e) {
    for (const [k, metas] of view(m.pres.state)) {
      assert.equal(new Set(metas.map((x) => x.phx_ref)).size, metas.length, `duplicate metas for ${k}\n${detail()}`);
    }
    throw e;
  }
}

// ---------------------------------------------------------------------------------------------
// tests

export function presenceScenarios(client: Client): void {
  for (const via of transports) {
    test(`presence_state then self-track → onSync fires, list() has the key with one meta carrying phx_ref (exact frames) [${via}] [${client.name}] (item 52)`, { timeout: 10_000 }, async () => {
      const t = presTopic("p52");
      const user = uname("u52");
      const m = member(t, user, { client, via, meta: { device: "desk", n: 1 } });
      const t0 = Date.now();
      const meta = await joinTracked(m);
      const jr = m.ch.joinRef();
      // wire: the join reply, then presence_state {} (fresh topic; pushed before the track), then the diff
      const reply = m.phx.log.find({ dir: "in", topic: t, event: "phx_reply", joinRef: jr })!;
      const state = m.phx.log.find({ dir: "in", topic: t, event: "presence_state" })!;
      assert.deepEqual(reply.json, [jr, jr, t, "phx_reply", { status: "ok", response: {} }]);
      assert.deepEqual(state.json, [jr, null, t, "presence_state", {}]);
      assert.ok(reply.seq < state.seq, "presence_state after the join reply");
      const diffs = diffFrames(m.phx.log, t);
      assert.equal(diffs.length, 1, `one diff so far\n${m.phx.log.dump()}`);
      assert.deepEqual(diffs[0]!.e.json, [null, null, t, "presence_diff", { joins: { [user]: { metas: [meta] } }, leaves: {} }]);
      // the meta: online_at (integer ms) + the join meta + phx_ref, nothing else
      assert.deepEqual(Object.keys(meta).sort(), ["device", "n", "online_at", "phx_ref"]);
      assert.equal(meta.device, "desk");
      assert.equal(meta.n, 1);
      assert.ok(Number.isInteger(meta.online_at), `online_at is an integer: ${String(meta.online_at)}`);
      assert.ok(Math.abs((meta.online_at as number) - t0) < 60_000, `online_at is a ms timestamp: ${String(meta.online_at)}`);
      assert.equal(typeof meta.phx_ref, "string");
      assert.match(meta.phx_ref, /^[A-Za-z0-9_-]+$/, "phx_ref is an opaque URL-safe string");
      // the client: onSync for the state and for the diff; list() = that one key with that one meta
      assert.ok(m.syncs >= 2, `onSync fired for presence_state and the diff (${m.syncs})`);
      assert.deepEqual(m.lists[0], [], "first onSync: empty state");
      const list = m.pres.list((key, p) => ({ key, p }));
      assert.equal(list.length, 1);
      assert.equal(list[0]!.key, user);
      assert.deepEqual(list[0]!.p, { metas: [meta] });
      assert.deepEqual(m.joins.map((j) => [j.key, j.current, j.joined]), [[user, undefined, { metas: [meta] }]]);
      assert.equal(Object.getPrototypeOf(m.pres.state), null, `${client.label} keeps a null-prototype state (as phoenix.js ≥ 1.8)`);
    });

    test(`a second client tracks → the first gets presence_diff joins[key].metas[0].phx_ref and onJoin(key, undefined, p) [${via}] [${client.name}] (item 53)`, { timeout: 10_000 }, async () => {
      const t = presTopic("p53");
      const ua = uname("u53a"), ub = uname("u53b");
      const a = member(t, ua, { client, via });
      const aMeta = await joinTracked(a);
      const from = a.phx.log.nextSeq;
      const b = member(t, ub, { client, via, meta: { role: "second" } });
      const bMeta = await joinTracked(b);
      // b's presence_state already lists a
      const bState = b.phx.log.find({ dir: "in", topic: t, event: "presence_state" })!;
      assert.deepEqual(bState.json, [b.ch.joinRef(), null, t, "presence_state", { [ua]: { metas: [aMeta] } }]);
      // a receives the join on the wire
      const { d } = await waitDiff(a.phx.log, t, (x) => own(x.joins, ub) !== undefined, `diff joining ${ub}`, 3000, from);
      const joined = own(d.joins, ub)!;
      assert.equal(typeof joined.metas[0]?.phx_ref, "string");
      assert.deepEqual(joined, { metas: [bMeta] });
      assert.equal(own(d.leaves, ub), undefined);
      assert.deepEqual(Object.keys(bMeta).sort(), ["online_at", "phx_ref", "role"]);
      assert.notEqual(bMeta.phx_ref, aMeta.phx_ref);
      // onJoin(key, undefined, newPresence)
      await waitUntil(() => a.joins.some((j) => j.key === ub), 2000, `a's onJoin for ${ub}`, dump(a));
      const j = a.joins.filter((x) => x.key === ub);
      assert.equal(j.length, 1);
      assert.equal(j[0]!.current, undefined);
      assert.deepEqual(j[0]!.joined, { metas: [bMeta] });
      assert.deepEqual(view(a.pres.state), view(b.pres.state));
      assert.deepEqual(view(a.pres.state).map(([k]) => k), [ua, ub].sort());
    });

    test(`the same key from two connections → one key with two metas; when one leaves, onLeave reports one remaining meta and the key stays [${via}] [${client.name}] (item 54)`, { timeout: 10_000 }, async () => {
      const t = presTopic("p54");
      const u = uname("u54");
      const first = member(t, u, { client, via, meta: { tab: 1 } });
      const m1 = await joinTracked(first);
      const second = member(t, u, { client, via, meta: { tab: 2 } });
      const m2 = await joinTracked(second);
      assert.notEqual(m1.phx_ref, m2.phx_ref);
      await waitUntil(() => refsOf(own(first.pres.state, u)).length === 2, 2000, "first lists two metas", dump(first));
      const list = first.pres.list((key, p) => ({ key, p }));
      assert.equal(list.length, 1, "one key");
      assert.equal(list[0]!.key, u);
      assert.deepEqual(list[0]!.p.metas, [m1, m2], "known metas first, then the joined one");
      assert.deepEqual(view(second.pres.state), view(first.pres.state));
      // the second connection leaves its channel
      const from = first.phx.log.nextSeq;
      assert.equal((await outcome(second.ch.leave(), 3000, undefined, dump(second))).status, "ok");
      const { d } = await waitDiff(first.phx.log, t, (x) => hasRef(own(x.leaves, u), m2.phx_ref), "leave diff for the second meta", 3000, from);
      assert.deepEqual(own(d.leaves, u), { metas: [m2] });
      assert.equal(own(d.joins, u), undefined);
      await waitUntil(() => first.leaves.some((l) => l.key === u), 2000, "onLeave", dump(first));
      const leaves = first.leaves.filter((l) => l.key === u);
      assert.equal(leaves.length, 1);
      assert.deepEqual(leaves[0]!.current, { metas: [m1] }, "onLeave: one remaining meta");
      assert.deepEqual(leaves[0]!.left, { metas: [m2] }, "onLeave: the left meta");
      assert.deepEqual(first.pres.list((key, p) => [key, p]), [[u, { metas: [m1] }]], "the key stays with one meta");
    });

    // a client LongPoll that disconnects just stops polling: the server reaps its session (and
    // its presences leave) 1.5–3 windows later
    const goneMs = via === "longpoll" ? LONGPOLL_REAP_MAX_MS : 2000;
    test(`one user in several tabs: listBy counts in onSync lists follow tabs opening and closing [${via}] [${client.name}]`, { timeout: 10_000 + 2 * goneMs }, async () => {
      const t = presTopic("tabs");
      const uo = uname("tabs-o"), um = uname("tabs-m"), un = uname("tabs-n");
      const obs = member(t, uo, { client, via });
      await joinTracked(obs);
      const tabs: Member[] = [];
      for (let i = 0; i < 3; i++) {
        const tab = member(t, um, { client, via, meta: { tab: i } });
        await joinTracked(tab);
        tabs.push(tab);
      }
      const solo = member(t, un, { client, via });
      await joinTracked(solo);
      const expect3 = ([[uo, 1], [um, 3], [un, 1]] as Array<[string, number]>).sort(byKey);
      await waitUntil(() => JSON.stringify(obs.lists.at(-1)) === JSON.stringify(expect3), 2000, "observer counts m:3 n:1", dump(obs));
      for (const m of [...tabs, solo]) {
        await waitUntil(() => JSON.stringify(m.lists.at(-1)) === JSON.stringify(expect3), 2000, `${m.user} counts`, dump(m));
      }
      // close one tab (socket disconnect), then the other two
      await new Promise<void>((r) => tabs[0]!.phx.socket.disconnect(() => r()));
      const expect2 = ([[uo, 1], [um, 2], [un, 1]] as Array<[string, number]>).sort(byKey);
      await waitUntil(() => JSON.stringify(obs.lists.at(-1)) === JSON.stringify(expect2), goneMs, "observer counts m:2", dump(obs));
      await Promise.all(tabs.slice(1).map((tab) => new Promise<void>((r) => tab.phx.socket.disconnect(() => r()))));
      const expect0 = ([[uo, 1], [un, 1]] as Array<[string, number]>).sort(byKey);
      await waitUntil(() => JSON.stringify(obs.lists.at(-1)) === JSON.stringify(expect0), goneMs, "observer: m gone", dump(obs));
      // every onSync list was sane: never more tabs than opened, no duplicate metas at any time
      for (const l of obs.lists) {
        const mCount = l.find(([k]) => k === um)?.[1] ?? 0;
        assert.ok(mCount <= 3, `m count ≤ 3 in ${JSON.stringify(l)}`);
      }
      for (const [k, metas] of view(obs.pres.state)) assert.equal(new Set(metas.map((x) => x.phx_ref)).size, metas.length, `no duplicate metas for ${k}`);
    });

    test(`an update → one diff with the new meta in joins (phx_ref_prev = old ref) and the old meta in leaves [${via}] [${client.name}] (item 55)`, { timeout: 10_000 }, async () => {
      const t = presTopic("p55");
      const ua = uname("u55a"), uo = uname("u55o");
      const a = member(t, ua, { client, via, meta: { device: "phone" } });
      const old = await joinTracked(a);
      const obs = member(t, uo, { client, via });
      await joinTracked(obs);
      const from = obs.phx.log.nextSeq, aFrom = a.phx.log.nextSeq;
      const r = await outcome(a.ch.push("update", { status: "away" }), 3000, undefined, dump(a));
      assert.deepEqual(r, { status: "ok", response: {} });
      const { e, d } = await waitDiff(obs.phx.log, t, (x) => hasRef(own(x.leaves, ua), old.phx_ref), "the update's diff", 3000, from);
      const joined = own(d.joins, ua);
      assert.ok(joined, `the same diff carries the new meta in joins: ${e.text}`);
      assert.equal(joined.metas.length, 1);
      const next = joined.metas[0]!;
      assert.equal(typeof next.phx_ref, "string");
      assert.notEqual(next.phx_ref, old.phx_ref, "a new phx_ref");
      // new meta = {online_at: the tracked one, ...payload} (the join meta is replaced), + phx_ref/phx_ref_prev
      assert.deepEqual(next, { online_at: old.online_at, status: "away", phx_ref: next.phx_ref, phx_ref_prev: old.phx_ref });
      assert.deepEqual(own(d.leaves, ua), { metas: [old] }, "the old meta in leaves");
      // the updater's own wire sees the same diff
      const mine = await waitDiff(a.phx.log, t, (x) => hasRef(own(x.joins, ua), next.phx_ref), "the update diff on the updater", 3000, aFrom);
      assert.deepEqual(own(mine.d.joins, ua), { metas: [next] });
      assert.deepEqual(own(mine.d.leaves, ua), { metas: [old] });
      // both clients list the key with only the new meta; onJoin then onLeave
      for (const m of [obs, a]) {
        await waitUntil(() => JSON.stringify(refsOf(own(m.pres.state, ua))) === JSON.stringify([next.phx_ref]), 2000, `${m.user} lists the new meta only`, dump(m));
        assert.deepEqual(own(m.pres.state, ua), { metas: [next] });
        const j = m.joins.filter((x) => x.key === ua).at(-1)!;
        assert.deepEqual(j.current, { metas: [old] });
        assert.deepEqual(j.joined, { metas: [next] });
        const l = m.leaves.filter((x) => x.key === ua).at(-1)!;
        assert.deepEqual(l.left, { metas: [old] });
        assert.deepEqual(l.current, { metas: [next] });
      }
      // a second update chains phx_ref_prev
      const from2 = obs.phx.log.nextSeq;
      assert.equal((await outcome(a.ch.push("update", { status: "busy" }))).status, "ok");
      const second = await waitDiff(obs.phx.log, t, (x) => hasRef(own(x.leaves, ua), next.phx_ref), "the second update's diff", 3000, from2);
      const next2 = own(second.d.joins, ua)!.metas[0]!;
      assert.deepEqual(next2, { online_at: old.online_at, status: "busy", phx_ref: next2.phx_ref, phx_ref_prev: next.phx_ref });
      assert.deepEqual(own(second.d.leaves, ua), { metas: [next] }, "the left meta carries its own phx_ref_prev as sent");
    });

    test(`untrack → ok + leave diff; untrack again → error nopresence; update when untracked → error nopresence [${via}] [${client.name}]`, { timeout: 10_000 }, async () => {
      const t = presTopic("untrack");
      const ua = uname("unt-a"), uo = uname("unt-o");
      const a = member(t, ua, { client, via, meta: { x: 1 } });
      const aMeta = await joinTracked(a);
      const obs = member(t, uo, { client, via });
      await joinTracked(obs);
      const from = obs.phx.log.nextSeq;
      assert.deepEqual(await outcome(a.ch.push("untrack", {}), 3000, undefined, dump(a)), { status: "ok", response: {} });
      const { e: leaveFrame, d } = await waitDiff(obs.phx.log, t, (x) => own(x.leaves, ua) !== undefined, "leave diff after untrack", 3000, from);
      assert.deepEqual(own(d.leaves, ua), { metas: [aMeta] });
      assert.equal(own(d.joins, ua), undefined);
      await waitUntil(() => own(obs.pres.state, ua) === undefined && own(a.pres.state, ua) === undefined, 2000, "untracked key gone", dump(obs));
      assert.deepEqual(obs.leaves.filter((l) => l.key === ua).map((l) => l.left), [{ metas: [aMeta] }]);
      // a second untrack and an update are refused
      const aFrom = a.phx.log.nextSeq;
      const again = await outcome(a.ch.push("untrack", {}), 3000, undefined, dump(a));
      const upd = await outcome(a.ch.push("update", { y: 1 }), 3000, undefined, dump(a));
      const replies = a.phx.log.all({ dir: "in", topic: t, event: "phx_reply" }, aFrom).map((e) => asV2(e)!);
      assert.deepEqual(upd, { status: "error", response: { reason: "nopresence" } }, "update of an untracked presence");
      assert.deepEqual(again, { status: "error", response: { reason: "nopresence" } },
        `second untrack must be refused; got ${JSON.stringify(again)}; reply frames: ${JSON.stringify(replies)}`);
      assert.equal(a.ch.state, "joined", "the channel stays joined");
      await obs.phx.log.expectNone((e) => e.dir === "in" && asV2(e)?.[3] === "presence_diff" && JSON.stringify(asV2(e)?.[4]).includes(ua),
        `another diff for ${ua}`, 150, leaveFrame.seq + 1);
    });

    test(`fields added by fetch (user: {name}) are in presence_state and in both joins and leaves of presence_diff [${via}] [${client.name}] (item 57)`, { timeout: 10_000 }, async () => {
      const t = presTopic("p57", true);
      const ua = uname("u57a"), ub = uname("u57b");
      const b = await rawMember(t, ub, { k: "b" });
      // b's own join diff is decorated
      const bJoin = diffFrames(b.c.log, t).find((x) => own(x.d.joins, ub) !== undefined)!;
      assert.deepEqual(bJoin.e.json, [null, null, t, "presence_diff", { joins: { [ub]: { metas: [b.meta], user: { name: ub } } }, leaves: {} }]);
      // a's presence_state is decorated
      const a = member(t, ua, { client, via });
      const aMeta = await joinTracked(a);
      const st = a.phx.log.find({ dir: "in", topic: t, event: "presence_state" })!;
      assert.deepEqual(st.json, [a.ch.joinRef(), null, t, "presence_state", { [ub]: { metas: [b.meta], user: { name: ub } } }]);
      assert.deepEqual(own(a.pres.state, ub), { metas: [b.meta], user: { name: ub } });
      assert.deepEqual(own(a.pres.state, ua), { metas: [aMeta], user: { name: ua } });
      // update: both sides decorated
      let from = a.phx.log.nextSeq;
      const up = await b.c.call(b.jr, t, "update", { k: "b2" });
      assert.deepEqual(up[4], { status: "ok", response: {} });
      const upd = await waitDiff(a.phx.log, t, (x) => hasRef(own(x.leaves, ub), b.meta.phx_ref), "update diff", 3000, from);
      const next = own(upd.d.joins, ub)?.metas[0];
      assert.ok(next, `update diff has joins: ${upd.e.text}`);
      assert.deepEqual(upd.e.json, [null, null, t, "presence_diff", {
        joins: { [ub]: { metas: [{ online_at: b.meta.online_at, k: "b2", phx_ref: next.phx_ref, phx_ref_prev: b.meta.phx_ref }], user: { name: ub } } },
        leaves: { [ub]: { metas: [b.meta], user: { name: ub } } },
      }]);
      // leave: decorated leaves, and the client's onLeave gets the decorated presence
      from = a.phx.log.nextSeq;
      const leaveRef = b.c.push(b.jr, t, "phx_leave", {});
      await b.c.reply(t, leaveRef);
      const lv = await waitDiff(a.phx.log, t, (x) => own(x.leaves, ub) !== undefined, "leave diff", 3000, from);
      assert.deepEqual(lv.e.json, [null, null, t, "presence_diff", { joins: {}, leaves: { [ub]: { metas: [next], user: { name: ub } } } }]);
      await waitUntil(() => own(a.pres.state, ub) === undefined, 2000, "b gone", dump(a));
      assert.deepEqual(a.leaves.filter((l) => l.key === ub).at(-1)?.left, { metas: [next], user: { name: ub } });
    });

    test(`a rejoin after the server drops the socket → fresh presence_state; Presence equals the truth, no duplicate metas, onSync fires [${via}] [${client.name}] (item 58)`, { timeout: 10_000 }, async (tc) => {
      const t = presTopic("p58");
      const ua = uname("u58a"), uo = uname("u58o");
      // a reconnects 200 ms after the drop, so what o does meanwhile is only in the fresh presence_state
      const phxA = phxSocket(server, { client, via, params: { user: ua }, reconnectAfterMs: () => 200 });
      await connected(phxA);
      const echo = phxA.socket.channel(topic("p58-echo"));
      await joinOk(phxA, echo);
      const a = member(t, ua, { client, via, phx: phxA });
      const aOld = await joinTracked(a);
      const o = member(t, uo, { client, via });
      const oOld = await joinTracked(o);
      await waitUntil(() => own(a.pres.state, uo) !== undefined && own(o.pres.state, ua) !== undefined, 2000, "both listed", dump(a));
      const jrOld = a.ch.joinRef();
      const syncsBefore = a.syncs;
      echo.push("disconnect_me", {});
      const close = await phxA.log.wait((e) => e.what === "close" && e.conn === 0, "server drops a's socket", 3000);
      assert.ok(serverDropCodes(via).includes(close.code!), `close code ${close.code}`);
      // Over long-poll, a's new session waits until o's update is in (its reconnect is scheduled in
      // this tick, so holding its polls now comes first): what a missed is then surely missed.
      if (via === "longpoll") phxA.polls.hold();
      // while a is away: o updates (a misses that diff) and sees a's old meta leave. The update's
      // diff may come in a later diff window than a's leave, so wait for both.
      assert.deepEqual(await outcome(o.ch.push("update", { while: "away" })), { status: "ok", response: {} });
      await waitUntil(() => own(o.pres.state, ua) === undefined, 2000, "o sees a leave", dump(o));
      await waitUntil(() => own(o.pres.state, uo)?.metas[0]?.phx_ref_prev !== undefined, 2000, "o sees its own update", dump(o));
      const oAway = own(o.pres.state, uo)!.metas[0]!;
      assert.equal(oAway.phx_ref_prev, oOld.phx_ref);
      phxA.polls.release();
      // a rejoins: the server pushes a fresh presence_state under the new join_ref
      await waitUntil(() => a.ch.state === "joined" && a.ch.joinRef() !== jrOld, 3000, "a's presence channel rejoined", dump(a));
      const jrNew = a.ch.joinRef();
      const rejoinReply = await phxA.log.wait({ dir: "in", conn: 1, topic: t, event: "phx_reply", joinRef: jrNew }, "rejoin reply");
      const state = await phxA.log.wait({ dir: "in", topic: t, event: "presence_state", joinRef: jrNew }, "fresh presence_state after the rejoin");
      assert.equal(state.conn, 1, "on the new connection");
      assert.ok(state.seq > rejoinReply.seq, "after the rejoin reply");
      assert.deepEqual(state.json, [jrNew, null, t, "presence_state", { [uo]: { metas: [oAway] } }], "the fresh state has what a missed, not a's old meta");
      // a's own new track, then the truth
      await waitUntil(() => { const r = refsOf(own(a.pres.state, ua)); return r.length === 1 && r[0] !== aOld.phx_ref; }, 2000, "a tracked anew", dump(a));
      await assertMatchesTruth(a, t, "a's Presence after the rejoin equals the server's state");
      await assertMatchesTruth(o, t, "o's Presence equals the server's state");
      assert.deepEqual(own(a.pres.state, uo), { metas: [oAway] }, "the missed update is applied (from presence_state)");
      // the client is in sync under the new join_ref: onSync fired for it and nothing is queued
      assert.equal(a.pres.joinRef, jrNew);
      assert.equal(a.pres.inPendingSyncState(), false);
      assert.equal(a.pres.pendingDiffs.length, 0);
      assert.ok(a.syncs > syncsBefore && a.syncJoinRefs.includes(jrNew), `onSync fired after the rejoin (join_refs at onSync: ${JSON.stringify(a.syncJoinRefs)})`);
      assert.ok(a.leaves.some((l) => l.key === ua && hasRef(l.left, aOld.phx_ref)), "syncState reported a's old meta as left");
      // later diffs are applied right away (the client is not stuck pending)
      const syncs = a.syncs;
      assert.equal((await outcome(o.ch.push("update", { n: "after" }))).status, "ok");
      await waitUntil(() => own(a.pres.state, uo)?.metas[0]?.n === "after", 2000, "a applies a later diff", dump(a));
      assert.ok(a.syncs > syncs);
      assert.equal(refsOf(own(a.pres.state, uo)).length, 1);
      tc.diagnostic(`diffs queued by ${client.label} while pending: ${a.queued}`);
    });

    test(`a rejoin whose presence_state falls between two updates of one key (< 25 ms, one diff window) → no stale duplicate meta [${via}] [${client.name}] (item 58)`, { timeout: 10_000 }, async (tc) => {
      const t = presTopic("p58w");
      const ua = uname("u58wa"), uo = uname("u58wo");
      const phxA = phxSocket(server, { client, via, params: { user: ua }, reconnectAfterMs: () => 1 });
      await connected(phxA);
      const echo = phxA.socket.channel(topic("p58w-echo"));
      await joinOk(phxA, echo);
      const a = member(t, ua, { client, via, phx: phxA });
      await joinTracked(a);
      const o = await rawMember(t, uo);
      await delay(100); // no diff window open
      const jrOld = a.ch.joinRef();
      // o updates, a is dropped and rejoins (fresh presence_state), o updates again: all inside one window
      const t0 = Date.now();
      await o.c.call(o.jr, t, "update", { n: 1 });
      echo.push("disconnect_me", {});
      await waitUntil(() => a.ch.joinRef() !== jrOld && a.phx.log.find({ dir: "in", topic: t, event: "presence_state", joinRef: a.ch.joinRef() }) !== undefined,
        3000, "a's fresh presence_state after the rejoin", dump(a));
      await o.c.call(o.jr, t, "update", { n: 2 });
      const elapsed = Date.now() - t0;
      tc.diagnostic(`update 1 → rejoin presence_state → update 2 took ${elapsed} ms (the server's diff window is 25 ms)`);
      const st = a.phx.log.find({ dir: "in", topic: t, event: "presence_state", joinRef: a.ch.joinRef() })!;
      tc.diagnostic(`a's fresh presence_state lists o as ${JSON.stringify(own(asV2(st)![4] as PresenceState, uo))}`);
      await assertMatchesTruth(a, t, "a's Presence after a rejoin inside a diff window equals the server's state");
      assert.deepEqual(own(a.pres.state, uo)?.metas.map((m) => m.n), [2]);
    });

    test(`a presence tracked before and untracked after a client's presence_state within one diff window (< 25 ms) does not stay listed [${via}] [${client.name}]`, { timeout: 10_000 }, async (tc) => {
      const t = presTopic("ghost");
      const uo = uname("ghost-o"), ux = uname("ghost-x"), ua = uname("ghost-a");
      const obs = member(t, uo, { client, via });
      await joinTracked(obs);
      await delay(100); // no diff window open
      const t0 = Date.now();
      // x joins (tracked right after its presence_state is pushed) …
      const x = await RawWebSocket.connect(server, { params: { user: ux } });
      const xjr = await x.joinOk(t);
      await x.log.wait({ dir: "in", topic: t, event: "presence_state", joinRef: xjr }, "x's presence_state");
      // … a joins and gets a presence_state listing x …
      const a = member(t, ua, { client, via });
      await connected(a.phx);
      await joinOk(a.phx, a.ch);
      const ast = await a.phx.log.wait({ dir: "in", topic: t, event: "presence_state", joinRef: a.ch.joinRef() }, "a's presence_state");
      // … x untracks
      const un = await x.call(xjr, t, "untrack", {});
      assert.deepEqual(un[4], { status: "ok", response: {} });
      const elapsed = Date.now() - t0;
      const listed = own(asV2(ast)![4] as PresenceState, ux) !== undefined;
      tc.diagnostic(`x track → a's presence_state → x untrack took ${elapsed} ms; a's presence_state ${listed ? "lists" : "does not list"} x`);
      await assertMatchesTruth(a, t, "a's Presence equals the server's state (x is not present)");
      await assertMatchesTruth(obs, t, "the observer's Presence equals the server's state");
    });

    test(`joining a joined topic again (join_ref 1 → 3) closes the old channel, whose presence leaves, and the new join tracks again [${via}] [${client.name}] (item 33)`, { timeout: 10_000 }, async () => {
      const t = presTopic("p33");
      const ud = uname("u33d"), uo = uname("u33o");
      const obs = member(t, uo, { client, via });
      await joinTracked(obs);
      const first = await rawMember(t, ud, { tab: 1 }, "1");
      const c = first.c;
      assert.equal(first.jr, "1");
      await waitUntil(() => hasRef(own(obs.pres.state, ud), first.meta.phx_ref), 2000, "observer lists the first join", dump(obs));
      const from = c.log.nextSeq, obsFrom = obs.phx.log.nextSeq;
      const { reply } = await c.join(t, { meta: { tab: 3 } }, "3");
      assert.deepEqual(reply, ["3", reply[1], t, "phx_reply", { status: "ok", response: {} }]);
      const close = await c.log.wait({ dir: "in", topic: t, event: "phx_close" }, "phx_close for join_ref 1", 3000, from);
      assert.deepEqual(close.json, ["1", "1", t, "phx_close", {}]);
      assert.equal(c.log.find({ dir: "in", topic: t, event: "phx_close", joinRef: "3" }), undefined, "the new channel is not closed");
      await c.log.wait({ dir: "in", topic: t, event: "presence_state", joinRef: "3" }, "presence_state for join_ref 3", 3000, from);
      // the observer sees the old channel's presence leave (by its phx_ref) and the new one join
      const lv = await waitDiff(obs.phx.log, t, (x) => hasRef(own(x.leaves, ud), first.meta.phx_ref), "leave diff for the old channel's meta", 3000, obsFrom);
      assert.deepEqual(own(lv.d.leaves, ud), { metas: [first.meta] });
      await waitUntil(() => { const r = refsOf(own(obs.pres.state, ud)); return r.length === 1 && r[0] !== first.meta.phx_ref; }, 3000,
        "observer lists exactly the new join's meta", dump(obs));
      const m3 = own(obs.pres.state, ud)!.metas[0]!;
      assert.deepEqual(m3, { online_at: m3.online_at, tab: 3, phx_ref: m3.phx_ref }, "a fresh track (no phx_ref_prev)");
      const jn = diffFrames(obs.phx.log, t, obsFrom).find((x) => hasRef(own(x.d.joins, ud), m3.phx_ref));
      assert.deepEqual(own(jn?.d.joins, ud), { metas: [m3] });
      assert.ok(obs.leaves.some((l) => l.key === ud && hasRef(l.left, first.meta.phx_ref)), "onLeave for the old meta");
      // the new channel owns the presence; the old join_ref is stale
      const u = await c.call("3", t, "update", { tab: "3b" });
      assert.deepEqual(u, ["3", u[1], t, "phx_reply", { status: "ok", response: {} }]);
      await waitUntil(() => own(obs.pres.state, ud)?.metas[0]?.phx_ref_prev === m3.phx_ref, 2000, "update through join_ref 3", dump(obs));
      const staleFrom = c.log.nextSeq;
      c.push("1", t, "untrack", {});
      await c.log.expectNone({ dir: "in", topic: t, event: "phx_reply" }, "a reply to the stale join_ref 1", 300, staleFrom);
      assert.equal(refsOf(own(obs.pres.state, ud)).length, 1, "still one meta");
    });

    test(`keys like __proto__ and constructor work as presence keys (plain and fetch topics) [${via}] [${client.name}]`, { timeout: 10_000 }, async () => {
      assert.equal(Object.getPrototypeOf(new client.Presence(phxSocket(server, { client, via, connect: false }).socket.channel("presence:unused")).state), null);
      for (const t of [presTopic("proto"), presTopic("proto", true)]) {
        const fetched = t.startsWith("presence:fetch:");
        const uo = uname("proto-o");
        const obs = member(t, uo, { client, via });
        await joinTracked(obs);
        const from = obs.phx.log.nextSeq;
        const p = member(t, "__proto__", { client, via, meta: { who: "proto" } });
        const pMeta = await joinTracked(p);
        const c = member(t, "constructor", { client, via });
        const cMeta = await joinTracked(c);
        const keys = ["__proto__", "constructor", uo].sort();
        await waitUntil(() => JSON.stringify(obs.pres.list((k) => k).sort()) === JSON.stringify(keys), 2000, `observer lists ${keys}`, dump(obs));
        assert.ok(Object.hasOwn(obs.pres.state, "__proto__"));
        assert.equal(Object.getPrototypeOf(obs.pres.state), null);
        const protoEntry = own(obs.pres.state, "__proto__")!;
        assert.deepEqual(protoEntry.metas, [pMeta]);
        assert.equal(pMeta.who, "proto");
        if (fetched) assert.deepEqual(protoEntry.user, { name: "__proto__" });
        assert.deepEqual(own(obs.pres.state, "constructor")?.metas, [cMeta]);
        // on the wire: an own "__proto__" key in joins
        const jd = diffFrames(obs.phx.log, t, from).find((x) => Object.hasOwn(x.d.joins, "__proto__"));
        assert.ok(jd, `a diff with an own "__proto__" join\n${obs.phx.log.dump()}`);
        assert.deepEqual(own(jd.d.joins, "__proto__")!.metas, [pMeta]);
        // a late joiner's presence_state carries both keys as own properties
        const lateUser = uname("proto-late");
        const late = await RawWebSocket.connect(server, { params: { user: lateUser } });
        const ljr = await late.joinOk(t);
        const lst = asV2(await late.log.wait({ dir: "in", topic: t, event: "presence_state", joinRef: ljr }, "late state"))![4] as PresenceState;
        assert.deepEqual(Object.keys(lst).sort(), keys);
        assert.deepEqual(own(lst, "__proto__")?.metas, [pMeta]);
        // leaving removes the key
        assert.equal((await outcome(p.ch.leave())).status, "ok");
        await waitUntil(() => !Object.hasOwn(obs.pres.state, "__proto__"), 2000, "__proto__ left", dump(obs));
        assert.deepEqual(obs.leaves.filter((l) => l.key === "__proto__").map((l) => l.left.metas), [[pMeta]]);
        await waitUntil(() => Object.hasOwn(obs.pres.state, lateUser), 2000, "late joiner listed", dump(obs));
        assert.deepEqual(obs.pres.list((k) => k).sort(), ["constructor", lateUser, uo].sort());
        late.close();
      }
      // nothing leaked onto Object.prototype
      assert.equal(({} as Record<string, unknown>).metas, undefined);
      assert.equal(({} as Record<string, unknown>).phx_ref, undefined);
    });
  }

  test(`a tracked client whose socket closes abruptly → others get its leave diff within ~1 s [websocket] [${client.name}] (item 56)`, { timeout: 10_000 }, async (tc) => {
    const t = presTopic("p56");
    const uo = uname("u56o"), ur = uname("u56r"), up = uname("u56p");
    const obs = member(t, uo, { client });
    await joinTracked(obs);
    // a raw client: TCP socket destroyed without a close frame
    const raw = await rawMember(t, ur, { kind: "raw" });
    await waitUntil(() => hasRef(own(obs.pres.state, ur), raw.meta.phx_ref), 2000, "observer lists the raw client", dump(obs));
    let from = obs.phx.log.nextSeq;
    let t0 = Date.now();
    raw.c.terminate();
    const rawLeave = await waitDiff(obs.phx.log, t, (x) => hasRef(own(x.leaves, ur), raw.meta.phx_ref), "leave diff after terminate (raw)", 1000, from);
    const rawMs = obs.phx.log.time(rawLeave.e) - t0;
    assert.deepEqual(own(rawLeave.d.leaves, ur), { metas: [raw.meta] });
    await waitUntil(() => own(obs.pres.state, ur) === undefined, 1000, "raw client gone from the list", dump(obs));
    // a client whose transport is destroyed (it will reconnect and track anew)
    const p = member(t, up, { client });
    const pMeta = await joinTracked(p);
    await waitUntil(() => hasRef(own(obs.pres.state, up), pMeta.phx_ref), 2000, "observer lists the client", dump(obs));
    from = obs.phx.log.nextSeq;
    t0 = Date.now();
    (p.phx.socket.conn as WebSocket).terminate();
    const phxLeave = await waitDiff(obs.phx.log, t, (x) => hasRef(own(x.leaves, up), pMeta.phx_ref), `leave diff after terminate (${client.label})`, 1000, from);
    const phxMs = obs.phx.log.time(phxLeave.e) - t0;
    tc.diagnostic(`leave diff after abrupt close: raw ${rawMs} ms, ${client.label} ${phxMs} ms`);
    assert.ok(rawMs <= 1000 && phxMs <= 1000, `leave within ~1 s (raw ${rawMs} ms, ${client.label} ${phxMs} ms)`);
    // the reconnected client is tracked again with a new ref; no duplicates at the observer
    await waitUntil(() => { const r = refsOf(own(obs.pres.state, up)); return r.length === 1 && r[0] !== pMeta.phx_ref; }, 3000,
      "the reconnected client tracked again (one new meta)", dump(obs));
  });

  test(`a join opting in to online/offline ({online: true}): its Presence syncs as without it; presence_online_state, then presence_online for a newcomer, and nothing for a reload within the grace [${client.name}]`, { timeout: 10_000 }, async () => {
    const t = presTopic("pon");
    const uw = uname("uonw"), un = uname("uonn");
    const w = member(t, uw, { client, online: true });
    await joinTracked(w);
    const online = (event: string, from = 0) => w.phx.log.all({ dir: "in", topic: t, event }, from).map((e) => asV2(e)![4]);
    const state = await w.phx.log.wait({ dir: "in", topic: t, event: "presence_online_state" }, "presence_online_state", 2000);
    assert.deepEqual(asV2(state)![4], { keys: [uw] }, "the opted-in join gets the online keys, itself included");
    const n = member(t, un, { client });
    const nMeta = await joinTracked(n);
    await waitUntil(() => hasRef(own(w.pres.state, un), nMeta.phx_ref), 2000, "the watcher's Presence lists the newcomer", dump(w));
    await w.phx.log.wait({ dir: "in", topic: t, event: "presence_online" }, "presence_online for the newcomer", 2000);
    assert.deepEqual(online("presence_online"), [{ key: un }]);
    assert.equal(n.phx.log.all((e) => e.dir === "in" && /presence_online/.test(e.text ?? "")).length, 0, "a join that did not opt in gets no online events");
    // The newcomer reloads: its meta leaves and a new one joins well within the 3 s default grace.
    const from = w.phx.log.nextSeq;
    n.phx.socket.disconnect();
    await waitUntil(() => own(w.pres.state, un) === undefined, 2000, "the newcomer's meta gone from the watcher's Presence", dump(w));
    const again = member(t, un, { client });
    const againMeta = await joinTracked(again);
    await waitUntil(() => hasRef(own(w.pres.state, un), againMeta.phx_ref), 2000, "the reloaded newcomer listed again", dump(w));
    await delay(300);
    assert.deepEqual([online("presence_online", from), online("presence_offline", from)], [[], []], "no online/offline for a reload within the grace");
    await assertMatchesTruth(w, t, "the opted-in watcher's Presence matches the server");
  });
}
