// §10 items 40–51: the long-poll transport at /socket/longpoll (PROTOCOL.md §4, §5.6), driven by
// raw HTTP requests (fetch) where the item is about HTTP shapes and by the official phoenix.js
// LongPoll (recording subclass, see harness.ts) for 42, 45, 46, 48 and 51; plus malformed requests
// (bad JSON, bad base64, oversized bodies, unknown tokens, other methods), each answered with its
// documented status and followed by a check that the server still answers.
//
// Timings follow the server's long-poll window (LONGPOLL_WINDOW_MS: 1 s for a spawned server,
// CINDER_CONFORMANCE_LONGPOLL_WINDOW_MS or 10 s for an external one).
import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server, type Socket as NetSocket } from "node:net";
import { request } from "node:http";
import WebSocket from "ws";
import { LongPoll, type Channel, type PresenceDiffPayload as PresenceDiff } from "phoenix";
import {
  LONGPOLL_REAP_MAX_MS, LONGPOLL_WINDOW_MS, RawClient, RawLongPoll, asV2, assertLongPollHealthy, assertServerHealthy,
  connected, delay, httpPost, joinOk, lpFetch, onCleanup, outcome, phxSocket, serverAlive, topic, useServer, waitUntil,
  type LpResponse, type V2, type WireEntry,
} from "./harness.js";

const server = useServer();
const W = LONGPOLL_WINDOW_MS;

// ---------------------------------------------------------------------------------------------
// helpers

let uniq = 0;
function uname(prefix: string): string {
  uniq += 1;
  return `${prefix}-${process.pid}-${uniq}-${Math.random().toString(36).slice(2, 6)}`;
}

function presTopic(name: string): string {
  return `presence:${topic(name).slice("echo:".length)}`;
}

/** The headers every JSON long-poll answer carries (§4.2). */
function assertJsonHeaders(r: LpResponse, what: string): void {
  assert.match(r.headers.get("content-type") ?? "", /^application\/json/, `${what}: JSON content-type`);
  assert.equal(r.headers.get("cache-control"), "no-store", `${what}: cache-control`);
  assert.equal(r.headers.get("access-control-allow-origin"), "*", `${what}: access-control-allow-origin`);
}

/** HTTP 200 with exactly `{"status": s}` (POST answers carry no token and no messages). */
function assertPostStatus(r: LpResponse, status: number, what: string): void {
  assert.equal(r.http, 200, `${what}: HTTP status (body ${r.text})`);
  assert.deepEqual(r.json, { status }, `${what}: body`);
  assertJsonHeaders(r, what);
}

/** HTTP 200 `{"status":410,"token":<new>,"messages":[]}`: a new session (first GET or dead token). */
function assertNewSession(r: LpResponse, what: string, notToken?: string): string {
  assert.equal(r.http, 200, `${what}: HTTP status (body ${r.text})`);
  assert.deepEqual(Object.keys(r.json ?? {}).sort(), ["messages", "status", "token"], `${what}: keys of ${r.text}`);
  assert.equal(r.json.status, 410, `${what}: status`);
  assert.deepEqual(r.json.messages, [], `${what}: messages`);
  assert.equal(typeof r.json.token, "string", `${what}: token`);
  assert.ok((r.json.token as string).length > 0, `${what}: non-empty token`);
  if (notToken !== undefined) assert.notEqual(r.json.token, notToken, `${what}: a NEW token`);
  assertJsonHeaders(r, what);
  return r.json.token as string;
}

const frame = (v: V2): string => JSON.stringify(v);

/** POST with an explicit token (query `vsn=2.0.0&token=…`) and a raw body. */
function postWith(token: string | null, body: string | Buffer, contentType = "application/x-ndjson", ms?: number): Promise<LpResponse> {
  return lpFetch(server, {
    method: "POST", query: `vsn=2.0.0${token === null ? "" : `&token=${encodeURIComponent(token)}`}`,
    headers: { "content-type": contentType }, body, ...(ms !== undefined ? { ms } : {}),
  });
}

/** A session-state probe that never parks: an empty ndjson POST → 200 (alive) or 410 (gone). */
async function sessionStatus(token: string): Promise<number> {
  const r = await postWith(token, "");
  return r.json?.status as number;
}

/** After a malformed request: the process is up and fresh websocket and long-poll sessions work. */
async function assertStillAnswers(): Promise<void> {
  assert.ok(serverAlive(), `server process died\n${server.output()}`);
  await assertServerHealthy(server);
  await assertLongPollHealthy(server);
}

function diffOf(e: WireEntry): PresenceDiff | undefined {
  const v = asV2(e);
  return v !== undefined && v[3] === "presence_diff" ? v[4] as PresenceDiff : undefined;
}

const responseOf = (e: WireEntry): { status?: number; token?: string; messages?: unknown[] } | null =>
  (e.response ?? null) as { status?: number; token?: string; messages?: unknown[] } | null;

// ---------------------------------------------------------------------------------------------
// 40–44

test("40: the first GET → HTTP 200 {\"status\":410,\"token\":T,\"messages\":[]} (JSON, no-store, CORS *); connect params reach connect", { timeout: 10_000 }, async () => {
  // exactly as phoenix.js 1.8.16 sends it: user params, vsn, and an empty segment for the null token
  const r = await lpFetch(server, { query: "user=lp40&vsn=2.0.0&", headers: { accept: "application/json" } });
  const t1 = assertNewSession(r, "first GET");
  // every first GET is a new session
  const t2 = assertNewSession(await lpFetch(server, { query: "user=lp40&vsn=2.0.0&" }), "another first GET");
  assert.notEqual(t1, t2, "each first GET gets its own token");
  // the session is usable, and connect saw the `user` param (handle_out reports it as seen_by)
  const lp = await RawLongPoll.open(server, { user: "lp40" });
  lp.startPolling();
  const t = topic("lp40");
  const jr = await lp.joinOk(t);
  const from = lp.log.nextSeq;
  const { answer } = await lp.push(jr, t, "intercepted", { probe: 40 });
  assertPostStatus(answer, 200, "POST intercepted");
  const filtered = await lp.log.wait({ dir: "in", topic: t, event: "filtered" }, "filtered push", 3000, from);
  assert.deepEqual(filtered.json, [jr, null, t, "filtered", { probe: 40, seen_by: "lp40" }]);
});

test(`41: an idle session's GET → {"status":204,"token":T,"messages":[]} after ~the window (${W} ms)`, { timeout: W + 10_000 }, async (tc) => {
  const lp = await RawLongPoll.open(server);
  const r = await lp.get();
  tc.diagnostic(`204 after ${r.elapsed} ms (window ${W} ms)`);
  assert.equal(r.http, 200);
  assert.deepEqual(r.json, { status: 204, token: lp.token, messages: [] });
  assertJsonHeaders(r, "204 answer");
  assert.ok(r.elapsed >= W - 100, `held for the window: answered after ${r.elapsed} ms (window ${W} ms)`);
  assert.ok(r.elapsed <= W + 1500, `answered at the window's end: ${r.elapsed} ms (window ${W} ms)`);
  // the session is still alive after a 204
  assert.equal(await sessionStatus(lp.token), 200);
});

test("42: phoenix.js joins and pushes → ndjson POSTs of V2 arrays answered {\"status\":200}; replies come in later GETs as {\"status\":200,\"messages\":[strings]}", { timeout: 10_000 }, async () => {
  const phx = phxSocket(server, { via: "longpoll", params: { user: "lp42" } });
  await connected(phx);
  const token = (phx.socket.conn as LongPoll).token;
  assert.equal(typeof token, "string");
  const t = topic("lp42");
  const ch = phx.socket.channel(t, { hello: "lp" });
  assert.deepEqual(await joinOk(phx, ch), { topic: t, params: { hello: "lp" } });
  // two pushes in one tick travel in one POST of two lines
  const p1 = outcome(ch.push("ping", { n: 1 }), 3000, undefined, () => phx.log.dump());
  const p2 = outcome(ch.push("custom_status", { n: 2 }), 3000, undefined, () => phx.log.dump());
  assert.deepEqual(await p1, { status: "ok", response: { n: 1 } });
  assert.deepEqual(await p2, { status: "queued", response: { n: 2 } });

  const posts = phx.log.all((e) => e.what === "request" && e.method === "POST");
  assert.ok(posts.length >= 2, `join and pushes POSTed\n${phx.log.dump()}`);
  for (const p of posts) {
    assert.equal(p.headers?.["Content-Type"], "application/x-ndjson");
    const lines = p.body!.split("\n");
    for (const line of lines) {
      const v = JSON.parse(line) as unknown;
      assert.ok(Array.isArray(v) && v.length === 5 && typeof v[2] === "string" && typeof v[3] === "string", `a V2 array per line: ${line}`);
    }
    // every request after the first carries the session token as the last `token` value
    assert.equal(new URL(p.url!).searchParams.getAll("token").at(-1), token);
  }
  const both = posts.find((p) => p.body!.includes("\"ping\"") && p.body!.includes("\"custom_status\""));
  assert.ok(both, `both pushes in one POST\n${phx.log.dump()}`);
  assert.equal(both.body!.split("\n").length, 2);
  for (const r of phx.log.all((e) => e.what === "response" && e.method === "POST")) {
    assert.deepEqual(r.response, { status: 200 }, "POST answer: exactly {status: 200}");
  }
  // replies: in GET answers {status:200, token, messages: [string…]} that came after the POST
  const gets = phx.log.all((e) => e.what === "response" && e.method === "GET" && responseOf(e)?.status === 200);
  assert.ok(gets.length >= 1);
  for (const g of gets) {
    const body = responseOf(g)!;
    assert.deepEqual(Object.keys(body).sort(), ["messages", "status", "token"]);
    assert.equal(body.token, token, "GET answers carry the request's token");
    assert.ok(Array.isArray(body.messages) && body.messages.length > 0);
    for (const m of body.messages!) {
      assert.equal(typeof m, "string", `messages are strings: ${JSON.stringify(m)}`);
      assert.ok(Array.isArray(JSON.parse(m as string)), "each message is a serialized V2 array");
    }
  }
  const pingLine = asV2(phx.log.find({ dir: "out", topic: t, event: "ping" })!)!;
  const reply = phx.log.find({ dir: "in", topic: t, event: "phx_reply", ref: pingLine[1] })!;
  assert.deepEqual(reply.json, [ch.joinRef(), pingLine[1], t, "phx_reply", { status: "ok", response: { n: 1 } }]);
  const postReq = posts.find((p) => p.body!.includes("\"ping\""))!;
  assert.ok(reply.seq > postReq.seq, "the reply arrives by a GET after the POST");
});

test("42 (binary upstream): phoenix.js sends an ArrayBuffer push as a base64 ndjson line; the server decodes the exact bytes", { timeout: 10_000 }, async () => {
  // (binary frames are not sent down to long-poll clients, so the bytes are observed by a ws client)
  const t = topic("lp42bin");
  const ws = await RawClient.connect(server);
  const wsJr = await ws.joinOk(t);
  assert.ok(wsJr);
  const phx = phxSocket(server, { via: "longpoll" });
  await connected(phx);
  const ch = phx.socket.channel(t);
  await joinOk(phx, ch);
  const bytes = [0, 1, 2, 250, 255, 128, 10, 13, 0x7b, 0x22];
  const from = ws.log.nextSeq;
  ch.push("broadcast", Uint8Array.from(bytes).buffer);
  const got = await ws.log.wait((e) => e.dir === "in" && e.bin !== undefined, "binary broadcast on the ws client", 3000, from);
  const m = got.binMsg;
  assert.ok(m !== undefined && typeof m !== "string" && m.kind === 2, `kind 2 broadcast: ${JSON.stringify(m)}`);
  assert.equal(m.topic, t);
  assert.equal(m.event, "broadcasted");
  assert.deepEqual([...m.payload], bytes);
  const post = phx.log.find((e) => e.what === "request" && e.method === "POST" && !e.body!.startsWith("["));
  assert.ok(post, `a POST whose line is base64\n${phx.log.dump()}`);
  assert.match(post.body!, /^[A-Za-z0-9+/]+=*$/);
  const answer = await phx.log.wait((e) => e.what === "response" && e.method === "POST" && e.seq > post.seq, "the POST's answer", 3000);
  assert.deepEqual(answer.response, { status: 200 });
});

test("43: a message for a session whose GET is parked → that GET answers 200 promptly, not at the window's end", { timeout: W + 10_000 }, async (tc) => {
  const lp = await RawLongPoll.open(server);
  const t = topic("lp43");
  assertPostStatus(await lp.post([frame(["1", "1", t, "phx_join", {}])]), 200, "join POST");
  const joined = await lp.get();
  assert.equal(joined.json.status, 200, "the join reply was buffered: answered at once");
  // a reply caused by a POST
  const parked = lp.get();
  await delay(100);
  const t0 = Date.now();
  assertPostStatus(await lp.post([frame(["1", "p1", t, "ping", { x: 1 }])]), 200, "ping POST");
  const r = await parked;
  const dt1 = Date.now() - t0;
  assert.equal(r.json.status, 200, `parked GET answered with messages: ${r.text}`);
  assert.equal(r.json.token, lp.token);
  assert.deepEqual((r.json.messages as string[]).map((m) => JSON.parse(m) as unknown), [["1", "p1", t, "phx_reply", { status: "ok", response: { x: 1 } }]]);
  // a broadcast from outside the session (POST /broadcast)
  const parked2 = lp.get();
  await delay(100);
  const t1 = Date.now();
  assert.equal((await httpPost(server, "/broadcast", { topic: t, event: "from_http", payload: { y: 2 } })).status, 204);
  const r2 = await parked2;
  const dt2 = Date.now() - t1;
  assert.deepEqual(r2.json, { status: 200, token: lp.token, messages: [JSON.stringify([null, null, t, "from_http", { y: 2 }])] });
  tc.diagnostic(`parked GET answered ${dt1} ms after the POST, ${dt2} ms after the broadcast (window ${W} ms)`);
  const limit = Math.min(500, W / 2);
  assert.ok(dt1 < limit && dt2 < limit, `answered promptly (${dt1} / ${dt2} ms, limit ${limit} ms)`);
});

test("44: a POST with an invalid, forged or expired token → HTTP 200 {\"status\":410}", { timeout: 10_000 }, async () => {
  const lp = await RawLongPoll.open(server);
  const hb = frame([null, "1", "phoenix", "heartbeat", {}]);
  const [id, mac] = lp.token.split(".") as [string, string];
  const flip = (s: string): string => `${s.slice(0, -1)}${s.endsWith("A") ? "B" : "A"}`;
  const cases: Array<[string, string | null]> = [
    ["no token", null],
    ["garbage", "nope"],
    ["empty id", `.${mac}`],
    ["forged MAC", `${id}.${flip(mac)}`],
    ["forged session id", `${flip(id)}.${mac}`],
    ["over-long", `${id}.${mac}${"x".repeat(600)}`],
  ];
  for (const [what, token] of cases) assertPostStatus(await postWith(token, hb), 410, `POST, ${what} token`);
  // an expired one: a session that ended (an undecodable frame closes it)
  const dead = await RawLongPoll.open(server);
  assertPostStatus(await dead.post(["[not json"]), 410, "the POST that ends the session");
  assertPostStatus(await postWith(dead.token, hb), 410, "POST, dead session's token");
  // the live session is unaffected
  assertPostStatus(await postWith(lp.token, hb), 200, "POST, live token");
});

// ---------------------------------------------------------------------------------------------
// 45–47

test("45: a GET with a dead session's token → 410 with a NEW token (raw); phoenix.js treats it as session gone, reconnects and rejoins", { timeout: 2 * W + 15_000 }, async (tc) => {
  // raw: end a session through a "disconnect" on its socket id, from a websocket of the same user
  const user = uname("lp45");
  const lp = await RawLongPoll.open(server, { user });
  lp.startPolling();
  const t = topic("lp45");
  await lp.joinOk(t);
  const ws = await RawClient.connect(server, { params: { user } });
  const wt = topic("lp45-ws");
  ws.push(await ws.joinOk(wt), wt, "disconnect_me", {});
  assert.equal((await ws.waitClose()).code, 1001);
  // the parked GET ends with 410 (its own token): the session is gone
  const end = await lp.log.wait((e) => e.what === "close", "the poll loop ends", W + 2000);
  assert.match(end.reason ?? "", /"status":410/, `parked GET answered 410: ${end.reason}`);
  const again = await lpFetch(server, { query: lp.query(), headers: { accept: "application/json" } });
  const fresh = assertNewSession(again, "GET with the dead session's token", lp.token);
  assert.equal(await sessionStatus(lp.token), 410, "the old token stays dead");
  assert.equal(await sessionStatus(fresh), 200, "the new token is a live session");

  // phoenix.js: hold its polls so that no GET is parked when the session dies; its next GET then
  // carries the dead session's token
  const u2 = uname("lp45phx");
  const phx = phxSocket(server, { via: "longpoll", params: { user: u2 } });
  await connected(phx);
  const ch = phx.socket.channel(topic("lp45phx"));
  await joinOk(phx, ch);
  const oldToken = (phx.socket.conn as LongPoll).token!;
  let errors = 0;
  ch.onError(() => { errors += 1; });
  phx.polls.hold();
  // a reply answers the parked GET at once; the next poll is then held
  assert.deepEqual(await outcome(ch.push("ping", { before: true })), { status: "ok", response: { before: true } });
  await waitUntil(() => phx.polls.waiting, W + 2000, "phoenix.js's next poll held", () => phx.log.dump());
  const ws2 = await RawClient.connect(server, { params: { user: u2 } });
  const wt2 = topic("lp45-ws2");
  ws2.push(await ws2.joinOk(wt2), wt2, "disconnect_me", {});
  await ws2.waitClose();
  assert.equal(await sessionStatus(oldToken), 410, "phoenix.js's session is gone");
  const from = phx.log.nextSeq;
  phx.polls.release();
  const got = await phx.log.wait((e) => e.what === "response" && e.method === "GET" && e.conn === 0, "the GET with the dead token", 3000, from);
  const req = phx.log.all((e) => e.what === "request" && e.method === "GET" && e.conn === 0, from)[0]!;
  assert.equal(new URL(req.url!).searchParams.getAll("token").at(-1), oldToken, "that GET carried the dead session's token");
  const body = responseOf(got)!;
  assert.equal(body.status, 410);
  assert.equal(typeof body.token, "string");
  assert.notEqual(body.token, oldToken, "410 with a NEW token");
  assert.deepEqual(body.messages, []);
  const close = await phx.log.wait((e) => e.what === "close" && e.conn === 0, "phoenix.js closes the LongPoll", 2000, from);
  assert.deepEqual([close.code, close.reason], [3410, "session_gone"]);
  assert.ok(phx.log.find((e) => e.what === "error" && e.conn === 0 && e.reason === "410", from), "onerror(410)");
  // a brand-new LongPoll: its first GET carries no session token, gets a new session, and rejoins
  await phx.log.wait((e) => e.what === "open" && e.conn === 1, "reconnected", 3000);
  const first = phx.log.find((e) => e.what === "request" && e.conn === 1)!;
  assert.deepEqual(new URL(first.url!).searchParams.getAll("token").filter((x) => x !== ""), [], "no session token on the new first GET");
  const newToken = (phx.socket.conn as LongPoll).token;
  assert.ok(newToken !== null && newToken !== oldToken && newToken !== body.token, "a new session of its own (the 410's token is discarded)");
  await waitUntil(() => ch.state === "joined", 3000, "channel rejoined", () => phx.log.dump());
  assert.ok(phx.log.find({ dir: "out", conn: 1, topic: ch.topic, event: "phx_join" }), "phx_join on the new LongPoll");
  assert.ok(errors >= 1, "the channel errored when the session was gone");
  assert.deepEqual(await outcome(ch.push("ping", { after: true })), { status: "ok", response: { after: true } });
  tc.diagnostic(`tokens: old session …${oldToken.slice(-8)}, 410 answer …${String(body.token).slice(-8)}, new session …${newToken!.slice(-8)}`);
});

test("46: a refused long-poll connect → HTTP 200 {\"status\":403}; phoenix.js onError gets 403 and closes 1008 \"forbidden\"", { timeout: 10_000 }, async () => {
  for (const query of ["token=bad&vsn=2.0.0", "token=bad&vsn=2.0.0&", "user=x&token=bad", "vsn=3.0.0", "vsn=abc"]) {
    const r = await lpFetch(server, { query, headers: { accept: "application/json" } });
    assert.equal(r.http, 200, `${query}: HTTP 200`);
    assert.deepEqual(r.json, { status: 403 }, `${query}: body`);
    assertJsonHeaders(r, query);
  }
  const errors: unknown[] = [];
  const phx = phxSocket(server, { via: "longpoll", connect: false, params: { token: "bad" }, reconnectAfterMs: () => 60_000 });
  phx.socket.onError((e) => { errors.push(e); });
  phx.socket.connect();
  await waitUntil(() => errors.length >= 1, 3000, "onError", () => phx.log.dump());
  assert.equal(errors[0], 403);
  const close = await phx.log.wait((e) => e.what === "close", "close after 403", 2000);
  assert.deepEqual([close.code, close.reason], [1008, "forbidden"]);
  assert.deepEqual(responseOf(phx.log.find((e) => e.what === "response")!), { status: 403 });
  assert.equal(phx.log.find((e) => e.what === "open"), undefined, "never opened");
  assert.equal(phx.socket.isConnected(), false);
});

test("47: OPTIONS preflight → 200 with access-control-allow-* headers; other methods → HTTP 400", { timeout: 10_000 }, async () => {
  const r = await lpFetch(server, {
    method: "OPTIONS",
    headers: {
      origin: "https://app.example.com",
      "access-control-request-method": "POST",
      "access-control-request-headers": "x-phoenix-longpoll-token, content-type, x-phoenix-authtoken",
    },
  });
  assert.equal(r.http, 200);
  assert.equal(r.headers.get("access-control-allow-headers"), "x-phoenix-longpoll-token, content-type, x-phoenix-authtoken", "echoes the requested headers");
  assert.equal(r.headers.get("access-control-allow-methods"), "get, post, options");
  assert.equal(r.headers.get("access-control-max-age"), "3600");
  assert.equal(r.headers.get("access-control-allow-origin"), "*");
  const other = await lpFetch(server, { method: "OPTIONS", headers: { "access-control-request-headers": "accept" } });
  assert.equal(other.headers.get("access-control-allow-headers"), "accept");
  for (const method of ["PUT", "DELETE", "PATCH"]) {
    const bad = await lpFetch(server, { method, query: "vsn=2.0.0", body: "[]" });
    assert.equal(bad.http, 400, `${method} → HTTP 400 (body ${bad.text})`);
    assert.equal(bad.headers.get("access-control-allow-origin"), "*");
  }
  await assertStillAnswers();
});

// ---------------------------------------------------------------------------------------------
// 48–51

test("48: the session token via X-Phoenix-Longpoll-Token or the LAST `token` query value, next to the user's own `token` param", { timeout: 10_000 }, async () => {
  const user = uname("lp48");
  const base = `token=mine&user=${user}&vsn=2.0.0`;
  // first GET with the user's own token: not a session token → a new session, connect accepts it
  const T = assertNewSession(await lpFetch(server, { query: `${base}&` }), "first GET with the user's token param");
  const t = topic("lp48");
  // (a) query: the user's token first, the session token last (what phoenix.js 1.8.16 sends)
  assertPostStatus(await lpFetch(server, { method: "POST", query: `${base}&token=${encodeURIComponent(T)}`,
    headers: { "content-type": "application/x-ndjson" }, body: frame(["1", "1", t, "phx_join", {}]) }), 200, "POST, session token last");
  // (b) header, with only the user's token in the query
  const g = await lpFetch(server, { query: base, headers: { accept: "application/json", "x-phoenix-longpoll-token": T } });
  assert.equal(g.json?.status, 200, `GET by header: ${g.text}`);
  assert.equal(g.json.token, T);
  assert.deepEqual(JSON.parse((g.json.messages as string[])[0]!), ["1", "1", t, "phx_reply", { status: "ok", response: { topic: t, params: {} } }]);
  // (c) the header wins over the query (whose last token is not a session token)
  const viaHeader = await lpFetch(server, { method: "POST", query: `${base}&token=bad`,
    headers: { "content-type": "application/x-ndjson", "x-phoenix-longpoll-token": T }, body: frame(["1", "2", t, "ping", {}]) });
  assertPostStatus(viaHeader, 200, "POST, header token + query token=bad");
  // (d) the session token not last → not used
  assertPostStatus(await lpFetch(server, { method: "POST", query: `token=${encodeURIComponent(T)}&token=mine&vsn=2.0.0`,
    headers: { "content-type": "application/x-ndjson" }, body: frame([null, "3", "phoenix", "heartbeat", {}]) }), 410, "POST, session token not last");
  const g2 = await lpFetch(server, { query: `token=${encodeURIComponent(T)}&token=mine&vsn=2.0.0` });
  assertNewSession(g2, "GET, session token not last: a first GET", T);

  // phoenix.js with its own `token` param
  const phx = phxSocket(server, { via: "longpoll", params: { token: "mine", user } });
  await connected(phx);
  const ch = phx.socket.channel(topic("lp48phx"));
  await joinOk(phx, ch);
  assert.deepEqual(await outcome(ch.push("ping", { p: 48 })), { status: "ok", response: { p: 48 } });
  const session = (phx.socket.conn as LongPoll).token;
  const reqs = phx.log.all((e) => e.what === "request");
  assert.deepEqual(new URL(reqs[0]!.url!).searchParams.getAll("token"), ["mine"], "first GET: only the user's token");
  for (const r of reqs.slice(1)) {
    assert.deepEqual(new URL(r.url!).searchParams.getAll("token"), ["mine", session], `user's token, then the session token: ${r.url}`);
  }
});

test("49: a POST of 101 ndjson lines → only the first 100 are processed; phoenix.js never sends more than 100 per POST", { timeout: 15_000 }, async () => {
  const lp = await RawLongPoll.open(server);
  lp.startPolling();
  const t = topic("lp49");
  const jr = await lp.joinOk(t);
  const from = lp.log.nextSeq;
  const lines = Array.from({ length: 101 }, (_, i) => frame([jr, `p${i + 1}`, t, "ping", { i: i + 1 }]));
  assertPostStatus(await lp.post(lines), 200, "POST of 101 lines");
  const replied = () => new Set(lp.log.all({ dir: "in", topic: t, event: "phx_reply" }, from).map((e) => asV2(e)![1]));
  await waitUntil(() => replied().size >= 100, 5000, "replies to the first 100 lines", () => lp.log.dump());
  // a later frame is processed after anything of that POST: line 101 would have been answered by now
  const after = await lp.call(jr, t, "ping", { after: true });
  assert.deepEqual(after[4], { status: "ok", response: { after: true } });
  const got = replied();
  for (let i = 1; i <= 100; i++) assert.ok(got.has(`p${i}`), `line ${i} processed`);
  assert.equal(got.has("p101"), false, "line 101 not processed");

  // phoenix.js: 150 pushes in one tick → POSTs of at most 100 lines, every push answered
  const phx = phxSocket(server, { via: "longpoll" });
  await connected(phx);
  const ch = phx.socket.channel(topic("lp49phx"));
  await joinOk(phx, ch);
  const postsFrom = phx.log.nextSeq;
  const pushes = Array.from({ length: 150 }, (_, i) => outcome(ch.push("ping", { i }), 5000));
  const outcomes = await Promise.all(pushes);
  outcomes.forEach((o, i) => assert.deepEqual(o, { status: "ok", response: { i } }));
  const sizes = phx.log.all((e) => e.what === "request" && e.method === "POST", postsFrom).map((e) => e.body!.split("\n").length);
  assert.ok(sizes.every((n) => n <= 100), `POST sizes ${JSON.stringify(sizes)}`);
  assert.equal(sizes.reduce((a, b) => a + b, 0), 150, `POST sizes ${JSON.stringify(sizes)}`);
});

test(`50: a session with no GET for longer than the reap time (1.5–3 windows = ${1.5 * W}–${3 * W} ms) → its channels end and its presences leave (seen by a ws client); polling sessions stay`, { timeout: 2 * LONGPOLL_REAP_MAX_MS + 10_000 }, async (tc) => {
  const t = presTopic("lp50");
  const uo = uname("lp50-obs"), ur = uname("lp50-raw"), up = uname("lp50-phx"), uk = uname("lp50-keep");
  const obs = await RawClient.connect(server, { params: { user: uo } });
  const ojr = await obs.joinOk(t);
  await obs.log.wait({ dir: "in", topic: t, event: "presence_state", joinRef: ojr }, "observer presence_state");
  const joinedDiff = (user: string) => obs.log.wait((e) => Object.hasOwn(diffOf(e)?.joins ?? {}, user), `${user} tracked`, 3000);
  const leftDiff = (user: string, from: number) => obs.log.wait((e) => Object.hasOwn(diffOf(e)?.leaves ?? {}, user), `${user}'s leave diff`, LONGPOLL_REAP_MAX_MS + 1000, from);

  // a raw session: joins the presence topic (tracked) and an echo topic, polls once, then never again
  const raw = await RawLongPoll.open(server, { user: ur });
  const et = topic("lp50-echo");
  assertPostStatus(await raw.post([frame(["1", "1", t, "phx_join", {}]), frame(["2", "2", et, "phx_join", {}])]), 200, "joins");
  await joinedDiff(ur);
  // a phoenix.js LongPoll client that disconnects: it just stops polling
  const p = phxSocket(server, { via: "longpoll", params: { user: up } });
  await connected(p);
  await joinOk(p, p.socket.channel(t));
  await joinedDiff(up);
  // a phoenix.js LongPoll client that keeps polling (with GETs parked at every reap check)
  const keep = phxSocket(server, { via: "longpoll", params: { user: uk } });
  await connected(keep);
  const kch: Channel = keep.socket.channel(t);
  await joinOk(keep, kch);
  await joinedDiff(uk);

  const from = obs.log.nextSeq;
  const last = await raw.get(); // answered at once: the join replies etc. are buffered
  assert.equal(last.json.status, 200);
  const rawLastGet = raw.lastGetAt;
  await new Promise<void>((r) => p.socket.disconnect(() => r()));
  const phxLastGet = Math.max(...p.log.all((e) => e.what === "request" && e.method === "GET").map((e) => p.log.time(e)));

  const [rawLeave, phxLeave] = await Promise.all([leftDiff(ur, from), leftDiff(up, from)]);
  const rawMs = obs.log.time(rawLeave) - rawLastGet, phxMs = obs.log.time(phxLeave) - phxLastGet;
  tc.diagnostic(`leave diffs ${rawMs} ms (raw) / ${phxMs} ms (phoenix.js) after the last GET (window ${W} ms)`);
  for (const [what, ms] of [["raw", rawMs], ["phoenix.js", phxMs]] as const) {
    assert.ok(ms >= 1.5 * W - 150, `${what}: not reaped before 1.5 windows (${ms} ms)`);
    assert.ok(ms <= LONGPOLL_REAP_MAX_MS, `${what}: reaped within ~3 windows (${ms} ms)`);
  }
  assert.deepEqual(Object.keys(diffOf(rawLeave)!.leaves[ur]!), ["metas"]);
  // the raw session is gone: POST → 410, GET → 410 with a new token
  assertPostStatus(await postWith(raw.token, frame(["2", "3", et, "ping", {}])), 410, "POST to the reaped session");
  assertNewSession(await lpFetch(server, { query: raw.query() }), "GET to the reaped session", raw.token);
  // the polling client was not reaped: no leave diff for it, and it still works
  assert.equal(obs.log.find((e) => Object.hasOwn(diffOf(e)?.leaves ?? {}, uk), from), undefined, "the polling session stays");
  assert.deepEqual(await outcome(kch.push("update", { still: "here" })), { status: "ok", response: {} });
  // truth: a fresh presence_state lists the observer and the keeper only
  const probe = await RawClient.connect(server, { params: { user: uname("lp50-probe") } });
  const pjr = await probe.joinOk(t);
  const st = asV2(await probe.log.wait({ dir: "in", topic: t, event: "presence_state", joinRef: pjr }, "probe presence_state"))![4] as Record<string, unknown>;
  assert.deepEqual(Object.keys(st).sort(), [uo, uk].sort());
});

/** A TCP server that accepts connections and never answers (a WebSocket path that hangs). */
async function blackHole(): Promise<{ port: number }> {
  const sockets = new Set<NetSocket>();
  const srv: Server = createServer((s) => { sockets.add(s); s.on("error", () => {}); });
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", () => r()));
  onCleanup(() => new Promise<void>((r) => { for (const s of sockets) s.destroy(); srv.close(() => r()); }));
  return { port: (srv.address() as { port: number }).port };
}

/** A port with nothing listening (connections are refused). */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", () => r()));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

for (const [how, makeHost] of [
  ["refused (errors at once)", async () => `127.0.0.1:${await closedPort()}`],
  ["hanging (never opens)", async () => `127.0.0.1:${(await blackHole()).port}`],
] as const) {
  test(`51: longPollFallbackMs 500 with the WebSocket path unusable — ${how} → phoenix.js falls back to LongPoll and joins succeed`, { timeout: 10_000 }, async (tc) => {
    const host = await makeHost();
    const attempts: string[] = [];
    // phoenix.js's transport option: a ws WebSocket whose connection goes to the unusable host
    class UnusableWebSocket extends WebSocket {
      constructor(url: string, protocols?: string | string[]) {
        attempts.push(url);
        super(url.replace(/^ws:\/\/[^/]+/, `ws://${host}`), protocols);
      }
    }
    const store = new Map<string, string>();
    const sessionStorage = { getItem: (k: string) => store.get(k) ?? null, setItem: (k: string, v: string) => { store.set(k, v); } };
    const started = Date.now();
    const phx = phxSocket(server, { transport: UnusableWebSocket, longPollFallbackMs: 500, sessionStorage, params: { user: "lp51" } });
    await waitUntil(() => phx.socket.isConnected(), 5000, "connected (over the fallback)", () => `attempts ${JSON.stringify(attempts)}`);
    const elapsed = Date.now() - started;
    tc.diagnostic(`connected over LongPoll ${elapsed} ms after connect()`);
    assert.ok(attempts.length >= 1 && attempts[0]!.includes("/socket/websocket"), "the WebSocket was tried first");
    assert.equal(phx.socket.transport, LongPoll, "the socket switched to phoenix.js's LongPoll");
    assert.ok(phx.socket.conn instanceof LongPoll);
    assert.equal(typeof (phx.socket.conn as LongPoll).token, "string", "a long-poll session");
    if (how.startsWith("hanging")) assert.ok(elapsed >= 450, `fell back after the 500 ms threshold (${elapsed} ms)`);
    const t = topic("lp51");
    const ch = phx.socket.channel(t);
    assert.deepEqual(await joinOk(phx, ch), { topic: t, params: {} });
    assert.deepEqual(await outcome(ch.push("ping", { via: "fallback" })), { status: "ok", response: { via: "fallback" } });
    const filtered = new Promise<unknown>((r) => ch.on("filtered", r));
    ch.push("intercepted", {});
    assert.deepEqual(await filtered, { seen_by: "lp51" }, "connect params travel over the fallback");
    assert.equal(store.get("phx:fallback:LongPoll"), "true", "the fallback is memorized in sessionStorage");
  });
}

// ---------------------------------------------------------------------------------------------
// malformed requests

test("malformed: a line that is neither [-JSON nor base64 → HTTP 400 {error}; the session lives on", { timeout: 10_000 }, async (tc) => {
  const lp = await RawLongPoll.open(server);
  lp.startPolling();
  const t = topic("bad-line");
  const jr = await lp.joinOk(t);
  for (const body of ["!!!notbase64", "{\"topic\":\"x\"}", "hello world", `${frame([jr, "ok1", t, "ping", {}])}\nnot base64!`]) {
    const r = await postWith(lp.token, body);
    assert.equal(r.http, 400, `${JSON.stringify(body)} → HTTP 400 (body ${r.text})`);
    assert.equal(typeof r.json?.error, "string", `{error}: ${r.text}`);
    assertJsonHeaders(r, "400 answer");
  }
  await delay(100);
  tc.diagnostic(`valid line before a bad one in the same POST processed: ${lp.log.find({ dir: "in", ref: "ok1" }) !== undefined}`);
  assert.deepEqual((await lp.call(jr, t, "ping", { still: "alive" }))[4], { status: "ok", response: { still: "alive" } });
  await assertStillAnswers();
});

test("malformed: an undecodable JSON line ([not json) closes the session (like ws 1007) → {\"status\":410}; later requests see it gone", { timeout: 10_000 }, async () => {
  const lp = await RawLongPoll.open(server);
  lp.startPolling();
  const t = topic("bad-json");
  const jr = await lp.joinOk(t);
  for (const line of ["[not json"]) assertPostStatus(await postWith(lp.token, line), 410, `POST ${line}`);
  await lp.log.wait((e) => e.what === "close", "the parked GET ends", 3000);
  assertPostStatus(await postWith(lp.token, frame([jr, "x", t, "ping", {}])), 410, "POST after");
  assertNewSession(await lpFetch(server, { query: lp.query() }), "GET after", lp.token);
  // other undecodable text frames end their sessions the same way
  for (const line of ["[1,2", "[\"1\",\"2\",\"echo:x\"]", "[null,\"1\",42,\"ping\",{}]"]) {
    const s = await RawLongPoll.open(server);
    const r = await postWith(s.token, line);
    assert.equal(r.http, 200, `${line}: HTTP 200`);
    assert.ok([200, 410].includes(r.json?.status as number), `${line}: {status} 200 or 410, got ${r.text}`);
  }
  await assertStillAnswers();
});

test("malformed: base64 lines that are not binary frames, empty lines, CRLF, a non-ndjson body → documented answers, never a crash", { timeout: 10_000 }, async (tc) => {
  // valid base64 of bytes that are no V2 binary frame: the frame is undecodable
  const seen: string[] = [];
  for (const line of ["AAAA", "/w==", "AQIDBAUGBwgJ"]) {
    const s = await RawLongPoll.open(server);
    const r = await postWith(s.token, line);
    assert.equal(r.http, 200, `${line}: HTTP 200 (body ${r.text})`);
    assert.ok([200, 410].includes(r.json?.status as number), `${line}: {status} 200 or 410, got ${r.text}`);
    seen.push(`${line} → ${r.text}`);
  }
  tc.diagnostic(`undecodable binary lines: ${seen.join("; ")}`);
  // empty lines are ignored and CRLF separates lines
  const lp = await RawLongPoll.open(server);
  lp.startPolling();
  const t = topic("crlf");
  const jr = await lp.joinOk(t);
  const from = lp.log.nextSeq;
  assertPostStatus(await postWith(lp.token, `\n\n${frame([jr, "a", t, "ping", { n: 1 }])}\r\n\r\n${frame([jr, "b", t, "ping", { n: 2 }])}\n`), 200, "POST with empty lines and CRLF");
  await lp.reply(t, "a", 3000, from);
  await lp.reply(t, "b", 3000, from);
  // another content type: the whole body is one text frame
  assertPostStatus(await postWith(lp.token, frame([jr, "c", t, "ping", { n: 3 }]), "application/json"), 200, "POST application/json");
  assert.deepEqual(await lp.reply(t, "c", 3000, from), [jr, "c", t, "phx_reply", { status: "ok", response: { n: 3 } }]);
  await assertStillAnswers();
});

/** POSTs `size` bytes with node:http (resolves on the answer, even one sent before the upload ends). */
function postBig(path: string, size: number): Promise<{ status: number; body: string }> {
  const url = new URL(path, server.http);
  return new Promise((resolveP, reject) => {
    const timer = setTimeout(() => { req.destroy(); reject(new Error("no answer to the big POST within 10 s")); }, 10_000);
    const req = request(url, { method: "POST", headers: { "content-type": "application/x-ndjson", "content-length": size } }, (res) => {
      let text = "";
      res.on("data", (c: Buffer) => { text += c.toString(); });
      res.on("end", () => { clearTimeout(timer); resolveP({ status: res.statusCode ?? -1, body: text }); });
    });
    req.on("error", (e) => { clearTimeout(timer); reject(e); });
    const chunk = Buffer.alloc(1024 * 1024, 0x41);
    let left = size;
    const write = (): void => {
      while (left > 0) {
        const n = Math.min(left, chunk.length);
        left -= n;
        if (!req.write(n === chunk.length ? chunk : chunk.subarray(0, n))) { req.once("drain", write); return; }
      }
      req.end();
    };
    write();
  });
}

test("malformed: a body over 8 MiB → HTTP 413 (live, dead or no token); the session lives on", { timeout: 20_000 }, async () => {
  const lp = await RawLongPoll.open(server);
  const size = 8 * 1024 * 1024 + 1;
  for (const [what, query] of [["live token", lp.query()], ["no token", "vsn=2.0.0"], ["unknown token", "vsn=2.0.0&token=nope"]] as const) {
    const r = await postBig(`/socket/longpoll?${query}`, size);
    assert.equal(r.status, 413, `${what}: HTTP 413 (body ${r.body})`);
    assert.equal(typeof (JSON.parse(r.body) as { error?: unknown }).error, "string");
  }
  assert.equal(await sessionStatus(lp.token), 200, "the session is untouched");
  await assertStillAnswers();
});

test("malformed: unknown, forged or over-long tokens on GET → a new session (410 + new token), never an error", { timeout: 10_000 }, async () => {
  const lp = await RawLongPoll.open(server);
  const [id, mac] = lp.token.split(".") as [string, string];
  for (const [what, query, headers] of [
    ["garbage query token", "vsn=2.0.0&token=garbage", {}],
    ["forged MAC", `vsn=2.0.0&token=${encodeURIComponent(`${id}.${mac.slice(0, -2)}xx`)}`, {}],
    ["over-long token", `vsn=2.0.0&token=${"a".repeat(2000)}.${"b".repeat(50)}`, {}],
    ["garbage header token", "vsn=2.0.0", { "x-phoenix-longpoll-token": "garbage" }],
    ["dotless token", "vsn=2.0.0&token=.", {}],
  ] as const) {
    assertNewSession(await lpFetch(server, { query, headers: { accept: "application/json", ...headers } }), what, lp.token);
  }
  assert.equal(await sessionStatus(lp.token), 200, "the real session is untouched");
  await assertStillAnswers();
});
