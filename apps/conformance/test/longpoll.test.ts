// docs/protocol.md §10 items 40–51: the long-poll transport at /socket/longpoll (docs/protocol.md §4, §5.6), driven by
// raw HTTP requests (fetch): the HTTP shapes of 40–50 and malformed requests (bad JSON, bad base64,
// oversized bodies, unknown tokens, other methods), each answered with its documented status and
// followed by a check that the server still answers. The client-driven long-poll scenarios (the
// clients' own LongPoll, recording subclass: 42, 45, 46, 48, 49, 50, 51) are in
// longpoll.scenarios.ts.
//
// Timings follow the server's long-poll window (LONGPOLL_WINDOW_MS: 1 s for a spawned server,
// CINDER_CONFORMANCE_LONGPOLL_WINDOW_MS or 10 s for an external one).
import { test } from "node:test";
import assert from "node:assert/strict";
import { request } from "node:http";
import {
  LONGPOLL_REAP_MAX_MS, RawWebSocket, RawLongPoll, asV2, delay, httpPost, lpFetch, topic, useServer, waitUntil,
} from "./harness/index.js";
import {
  W, assertJsonHeaders, assertNewSession, assertPostStatus, assertStillAnswers, diffOf, frame, postWith, presTopic,
  sessionStatus, uname,
} from "./longpoll.helpers.js";

const server = useServer();

// ---------------------------------------------------------------------------------------------
// 40–44

test("the first GET → HTTP 200 {\"status\":410,\"token\":T,\"messages\":[]} (JSON, no-store, CORS *); connect params reach connect (item 40)", { timeout: 10_000 }, async () => {
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

test(`an idle session's GET → {"status":204,"token":T,"messages":[]} after ~the window (${W} ms) (item 41)`, { timeout: W + 10_000 }, async (tc) => {
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

test("a message for a session whose GET is parked → that GET answers 200 promptly, not at the window's end (item 43)", { timeout: W + 10_000 }, async (tc) => {
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

/** `text` with the character at `at` changed. */
function flipAt(text: string, at: number): string {
  return `${text.slice(0, at)}${text[at] === "A" ? "B" : "A"}${text.slice(at + 1)}`;
}

/** A position near the middle of `token` that is not a dot. */
function middleOf(token: string): number {
  let at = Math.floor(token.length / 2);
  while (token[at] === ".") at++;
  return at;
}

test("a POST with an invalid, forged or expired token → HTTP 200 {\"status\":410} (item 44)", { timeout: 10_000 }, async () => {
  const lp = await RawLongPoll.open(server);
  const hb = frame([null, "1", "phoenix", "heartbeat", {}]);
  // The token is opaque: forge it by changing one character at its end (the signature) or in
  // its middle (the signed data), or by cutting off what comes before its first dot.
  const token = lp.token;
  const cases: Array<[string, string | null]> = [
    ["no token", null],
    ["garbage", "nope"],
    ["empty first part", token.slice(token.indexOf("."))],
    ["forged signature", flipAt(token, token.length - 1)],
    ["forged data", flipAt(token, middleOf(token))],
    ["over-long", `${token}${"x".repeat(2100)}`],
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

test("raw: a session ended by a \"disconnect\" answers its parked GET 410; a GET with its token → 410 with a NEW token (a live session) (item 45)", { timeout: W + 10_000 }, async (tc) => {
  // raw: end a session through a "disconnect" on its socket id, from a websocket of the same user
  const user = uname("lp45");
  const lp = await RawLongPoll.open(server, { user });
  lp.startPolling();
  const t = topic("lp45");
  await lp.joinOk(t);
  const ws = await RawWebSocket.connect(server, { params: { user } });
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
});

test("raw: a refused long-poll connect (token=bad, vsn=3.0.0, vsn=abc) → HTTP 200 {\"status\":403} (item 46)", { timeout: 10_000 }, async () => {
  for (const query of ["token=bad&vsn=2.0.0", "token=bad&vsn=2.0.0&", "user=x&token=bad", "vsn=3.0.0", "vsn=abc"]) {
    const r = await lpFetch(server, { query, headers: { accept: "application/json" } });
    assert.equal(r.http, 200, `${query}: HTTP 200`);
    assert.deepEqual(r.json, { status: 403 }, `${query}: body`);
    assertJsonHeaders(r, query);
  }
});

test("an OPTIONS preflight → 200 with access-control-allow-* headers; other methods → HTTP 400 (item 47)", { timeout: 10_000 }, async () => {
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
// 48–50

test("raw: the session token via X-Phoenix-Longpoll-Token or the LAST `token` query value, next to the user's own `token` param (item 48)", { timeout: 10_000 }, async () => {
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
});

test("raw: a POST of 101 ndjson lines → only the first 100 are processed (item 49)", { timeout: 15_000 }, async () => {
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
});

test(`raw: a session with no GET for longer than the reap time (1.5–3 windows = ${1.5 * W}–${3 * W} ms) → its channels end and its presences leave (seen by a ws client); the reaped session is gone (item 50)`, { timeout: LONGPOLL_REAP_MAX_MS + 10_000 }, async (tc) => {
  const t = presTopic("lp50");
  const uo = uname("lp50-obs"), ur = uname("lp50-raw");
  const obs = await RawWebSocket.connect(server, { params: { user: uo } });
  const ojr = await obs.joinOk(t);
  await obs.log.wait({ dir: "in", topic: t, event: "presence_state", joinRef: ojr }, "observer presence_state");
  const joinedDiff = (user: string) => obs.log.wait((e) => Object.hasOwn(diffOf(e)?.joins ?? {}, user), `${user} tracked`, 3000);
  const leftDiff = (user: string, from: number) => obs.log.wait((e) => Object.hasOwn(diffOf(e)?.leaves ?? {}, user), `${user}'s leave diff`, LONGPOLL_REAP_MAX_MS + 1000, from);

  // a raw session: joins the presence topic (tracked) and an echo topic, polls once, then never again
  const raw = await RawLongPoll.open(server, { user: ur });
  const et = topic("lp50-echo");
  assertPostStatus(await raw.post([frame(["1", "1", t, "phx_join", {}]), frame(["2", "2", et, "phx_join", {}])]), 200, "joins");
  await joinedDiff(ur);

  const from = obs.log.nextSeq;
  const last = await raw.get(); // answered at once: the join replies etc. are buffered
  assert.equal(last.json.status, 200);
  const rawLastGet = raw.lastGetAt;

  const rawLeave = await leftDiff(ur, from);
  const rawMs = obs.log.time(rawLeave) - rawLastGet;
  tc.diagnostic(`leave diff ${rawMs} ms after the last GET (window ${W} ms)`);
  assert.ok(rawMs >= 1.5 * W - 150, `not reaped before 1.5 windows (${rawMs} ms)`);
  assert.ok(rawMs <= LONGPOLL_REAP_MAX_MS, `reaped within ~3 windows (${rawMs} ms)`);
  assert.deepEqual(Object.keys(diffOf(rawLeave)!.leaves[ur]!), ["metas"]);
  // the raw session is gone: POST → 410, GET → 410 with a new token
  assertPostStatus(await postWith(raw.token, frame(["2", "3", et, "ping", {}])), 410, "POST to the reaped session");
  assertNewSession(await lpFetch(server, { query: raw.query() }), "GET to the reaped session", raw.token);
  // truth: a fresh presence_state lists the observer only
  const probe = await RawWebSocket.connect(server, { params: { user: uname("lp50-probe") } });
  const pjr = await probe.joinOk(t);
  const st = asV2(await probe.log.wait({ dir: "in", topic: t, event: "presence_state", joinRef: pjr }, "probe presence_state"))![4] as Record<string, unknown>;
  assert.deepEqual(Object.keys(st), [uo]);
});

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
  for (const [what, query, headers] of [
    ["garbage query token", "vsn=2.0.0&token=garbage", {}],
    ["forged signature", `vsn=2.0.0&token=${encodeURIComponent(`${lp.token.slice(0, -2)}${lp.token.endsWith("xx") ? "yy" : "xx"}`)}`, {}],
    ["forged data", `vsn=2.0.0&token=${encodeURIComponent(flipAt(lp.token, middleOf(lp.token)))}`, {}],
    ["over-long token", `vsn=2.0.0&token=${"a".repeat(2000)}.${"b".repeat(50)}`, {}],
    ["garbage header token", "vsn=2.0.0", { "x-phoenix-longpoll-token": "garbage" }],
    ["dotless token", "vsn=2.0.0&token=.", {}],
  ] as const) {
    assertNewSession(await lpFetch(server, { query, headers: { accept: "application/json", ...headers } }), what, lp.token);
  }
  assert.equal(await sessionStatus(lp.token), 200, "the real session is untouched");
  await assertStillAnswers();
});
