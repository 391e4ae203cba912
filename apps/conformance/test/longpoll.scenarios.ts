// docs/protocol.md §10 items 42, 45, 46, 48–51 driven by a client's own LongPoll (phoenix.js's or @cinder/client's,
// see harness/clients.ts `clients`; a recording subclass, see harness/recording.ts `recordingLongPoll`): ndjson
// batches, lost sessions, refused connects, the user's own `token` param, the 100-line limit,
// reaping, and the WebSocket → long-poll fallback. Run by longpoll.phoenix.test.ts and
// longpoll.cinder.test.ts; the raw HTTP checks are in longpoll.test.ts.
//
// Timings follow the server's long-poll window (LONGPOLL_WINDOW_MS: 1 s for a spawned server,
// CINDER_CONFORMANCE_LONGPOLL_WINDOW_MS or 10 s for an external one).
import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server, type Socket as NetSocket } from "node:net";
import WebSocket from "ws";
import type { Channel, LongPoll } from "phoenix";
import {
  LONGPOLL_REAP_MAX_MS, RawWebSocket, asV2, connected, joinOk, onCleanup, outcome, phxSocket, server, topic, waitUntil, type Client,
} from "./harness/index.js";
import { W, diffOf, presTopic, responseOf, sessionStatus, uname } from "./longpoll.helpers.js";

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

export function longpollScenarios(client: Client): void {
  test(`the client joins and pushes → ndjson POSTs of V2 arrays answered {"status":200}; replies come in later GETs as {"status":200,"messages":[strings]} [${client.name}] (item 42)`, { timeout: 10_000 }, async () => {
    const phx = phxSocket(server, { client, via: "longpoll", params: { user: "lp42" } });
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

  test(`the client sends an ArrayBuffer push as a base64 ndjson line; the server decodes the exact bytes [${client.name}] (item 42, binary upstream)`, { timeout: 10_000 }, async () => {
    // (binary frames are not sent down to long-poll clients, so the bytes are observed by a ws client)
    const t = topic("lp42bin");
    const ws = await RawWebSocket.connect(server);
    const wsJr = await ws.joinOk(t);
    assert.ok(wsJr);
    const phx = phxSocket(server, { client, via: "longpoll" });
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

  test(`a GET with a dead session's token (→ 410 with a new token) is a lost session: the client closes 3410, opens a new LongPoll with no token and rejoins [${client.name}] (item 45)`, { timeout: W + 10_000 }, async (tc) => {
    // hold the client's polls so that no GET is parked when the session dies; its next GET then
    // carries the dead session's token
    const u2 = uname("lp45phx");
    const phx = phxSocket(server, { client, via: "longpoll", params: { user: u2 } });
    await connected(phx);
    const ch = phx.socket.channel(topic("lp45phx"));
    await joinOk(phx, ch);
    const oldToken = (phx.socket.conn as LongPoll).token!;
    let errors = 0;
    ch.onError(() => { errors += 1; });
    phx.polls.hold();
    // a reply answers the parked GET at once; the next poll is then held
    assert.deepEqual(await outcome(ch.push("ping", { before: true })), { status: "ok", response: { before: true } });
    await waitUntil(() => phx.polls.waiting, W + 2000, "the client's next poll held", () => phx.log.dump());
    const ws2 = await RawWebSocket.connect(server, { params: { user: u2 } });
    const wt2 = topic("lp45-ws2");
    ws2.push(await ws2.joinOk(wt2), wt2, "disconnect_me", {});
    await ws2.waitClose();
    assert.equal(await sessionStatus(oldToken), 410, "the client's session is gone");
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
    const close = await phx.log.wait((e) => e.what === "close" && e.conn === 0, "the client closes the LongPoll", 2000, from);
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

  test(`a refused long-poll connect ({"status":403}) → onError gets 403, close 1008 "forbidden", never open [${client.name}] (item 46)`, { timeout: 10_000 }, async () => {
    const errors: unknown[] = [];
    const phx = phxSocket(server, { client, via: "longpoll", connect: false, params: { token: "bad" }, reconnectAfterMs: () => 60_000 });
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

  test(`a client with its own \`token\` param: every request after the first carries token=<user's>&…&token=<session> [${client.name}] (item 48)`, { timeout: 10_000 }, async () => {
    const user = uname("lp48c");
    const phx = phxSocket(server, { client, via: "longpoll", params: { token: "mine", user } });
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

  test(`150 pushes in one tick → POSTs of at most 100 lines, every push answered [${client.name}] (item 49)`, { timeout: 15_000 }, async () => {
    const phx = phxSocket(server, { client, via: "longpoll" });
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

  test(`a LongPoll that disconnected (stopped polling) is reaped 1.5–3 windows (${1.5 * W}–${3 * W} ms) after its last GET — its presence leaves (seen by a ws client); a polling one on the same topic stays [${client.name}] (item 50)`, { timeout: LONGPOLL_REAP_MAX_MS + 10_000 }, async (tc) => {
    const t = presTopic("lp50c");
    const uo = uname("lp50-obs"), up = uname("lp50-phx"), uk = uname("lp50-keep");
    const obs = await RawWebSocket.connect(server, { params: { user: uo } });
    const ojr = await obs.joinOk(t);
    await obs.log.wait({ dir: "in", topic: t, event: "presence_state", joinRef: ojr }, "observer presence_state");
    const joinedDiff = (user: string) => obs.log.wait((e) => Object.hasOwn(diffOf(e)?.joins ?? {}, user), `${user} tracked`, 3000);
    const leftDiff = (user: string, from: number) => obs.log.wait((e) => Object.hasOwn(diffOf(e)?.leaves ?? {}, user), `${user}'s leave diff`, LONGPOLL_REAP_MAX_MS + 1000, from);

    // a client LongPoll that disconnects: it just stops polling
    const p = phxSocket(server, { client, via: "longpoll", params: { user: up } });
    await connected(p);
    await joinOk(p, p.socket.channel(t));
    await joinedDiff(up);
    // a client LongPoll that keeps polling (with GETs parked at every reap check)
    const keep = phxSocket(server, { client, via: "longpoll", params: { user: uk } });
    await connected(keep);
    const kch: Channel = keep.socket.channel(t);
    await joinOk(keep, kch);
    await joinedDiff(uk);

    const from = obs.log.nextSeq;
    await new Promise<void>((r) => p.socket.disconnect(() => r()));
    const lastGet = Math.max(...p.log.all((e) => e.what === "request" && e.method === "GET").map((e) => p.log.time(e)));

    const leave = await leftDiff(up, from);
    const ms = obs.log.time(leave) - lastGet;
    tc.diagnostic(`leave diff ${ms} ms after the last GET (window ${W} ms)`);
    assert.ok(ms >= 1.5 * W - 150, `not reaped before 1.5 windows (${ms} ms)`);
    assert.ok(ms <= LONGPOLL_REAP_MAX_MS, `reaped within ~3 windows (${ms} ms)`);
    // the polling client was not reaped: no leave diff for it, and it still works
    assert.equal(obs.log.find((e) => Object.hasOwn(diffOf(e)?.leaves ?? {}, uk), from), undefined, "the polling session stays");
    assert.deepEqual(await outcome(kch.push("update", { still: "here" })), { status: "ok", response: {} });
    // truth: a fresh presence_state lists the observer and the keeper only
    const probe = await RawWebSocket.connect(server, { params: { user: uname("lp50-probe") } });
    const pjr = await probe.joinOk(t);
    const st = asV2(await probe.log.wait({ dir: "in", topic: t, event: "presence_state", joinRef: pjr }, "probe presence_state"))![4] as Record<string, unknown>;
    assert.deepEqual(Object.keys(st).sort(), [uo, uk].sort());
  });

  for (const [how, makeHost] of [
    ["refused (errors at once)", async () => `127.0.0.1:${await closedPort()}`],
    ["hanging (never opens)", async () => `127.0.0.1:${(await blackHole()).port}`],
  ] as const) {
    test(`longPollFallbackMs 500 with the WebSocket path unusable — ${how} → the client falls back to its LongPoll and joins succeed [${client.name}] (item 51)`, { timeout: 10_000 }, async (tc) => {
      const host = await makeHost();
      const attempts: string[] = [];
      // the transport option: a ws WebSocket whose connection goes to the unusable host
      class UnusableWebSocket extends WebSocket {
        constructor(url: string, protocols?: string | string[]) {
          attempts.push(url);
          super(url.replace(/^ws:\/\/[^/]+/, `ws://${host}`), protocols);
        }
      }
      const store = new Map<string, string>();
      const sessionStorage = { getItem: (k: string) => store.get(k) ?? null, setItem: (k: string, v: string) => { store.set(k, v); } };
      const started = Date.now();
      const phx = phxSocket(server, { client, transport: UnusableWebSocket, longPollFallbackMs: 500, sessionStorage, params: { user: "lp51" } });
      await waitUntil(() => phx.socket.isConnected(), 5000, "connected (over the fallback)", () => `attempts ${JSON.stringify(attempts)}`);
      const elapsed = Date.now() - started;
      tc.diagnostic(`connected over LongPoll ${elapsed} ms after connect()`);
      assert.ok(attempts.length >= 1 && attempts[0]!.includes("/socket/websocket"), "the WebSocket was tried first");
      assert.equal(phx.socket.transport, client.LongPoll, `the socket switched to ${client.label}'s LongPoll`);
      assert.ok(phx.socket.conn instanceof client.LongPoll);
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
}
