/**
 * The long-poll transport over real HTTP: session creation, parked polls, ndjson POSTs, tokens
 * from the header or the last `token` query value, the 100-line cap, CORS, malformed requests,
 * reaping (channels end, presences leave) and `"disconnect"`.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { attach, createPresence, defineChannel, defineSocket, ok, PubSub, refuse, silentLogger, Token, type ChannelSocket } from "../src/index.js";
import { createServer } from "node:http";
import { SESSION_TOKEN_SALT } from "../src/transport/longpoll.js";
import { startServer, type TestServer } from "./support/server.js";
import { RawClient, sleep } from "./support/raw-client.js";

const terminated: string[] = [];
const pubsub = new PubSub();
const presence = createPresence({ pubsub, logger: silentLogger, diffWindowMs: 0 });
const Room = defineChannel({
  join(_t: string, _p: unknown, socket: ChannelSocket<{ user: string }>) {
    presence.track(socket, socket.assigns.user, {});
    return ok();
  },
  handleIn(event: string, payload: unknown, socket: ChannelSocket<{ user: string }>) {
    if (event === "broadcast") socket.broadcast("shout", payload);
    return ok(payload);
  },
  terminate(reason, socket) {
    terminated.push(`${socket.topic}:${reason}`);
  },
});
const socket = defineSocket<{ user: string }>({
  connect: (params) => (params.user === "refused" ? refuse(403) : { user: String(params.user ?? "anon") }),
  id: (s) => `user:${s.assigns.user}`,
  channels: { "room:*": Room },
});

let server: TestServer;
let base: string;
const windowMs = 300;
after(async () => {
  await presence.close();
  await server?.close();
});

async function setup(): Promise<void> {
  server ??= await startServer({ socket, pubsub, longpoll: { windowMs } });
  base = `http://127.0.0.1:${server.port}/socket/longpoll`;
}

interface Body { status: number; token?: string; messages?: string[] }
async function get(query: string, headers: Record<string, string> = {}): Promise<{ http: number; body: Body; headers: Headers }> {
  const response = await fetch(`${base}?${query}`, { headers: { accept: "application/json", ...headers } });
  return { http: response.status, body: await response.json() as Body, headers: response.headers };
}
async function post(token: string, lines: string[], contentType = "application/x-ndjson"): Promise<{ http: number; body: unknown }> {
  const response = await fetch(`${base}?vsn=2.0.0&token=${encodeURIComponent(token)}`, {
    method: "POST", headers: { "content-type": contentType }, body: lines.join("\n"),
  });
  return { http: response.status, body: await response.json() };
}
async function session(user = "lp"): Promise<string> {
  const first = await get(`vsn=2.0.0&user=${user}`);
  assert.equal(first.body.status, 410);
  return first.body.token!;
}
/** Polls until `count` messages arrived (or the deadline); returns them parsed. */
async function drain(token: string, count: number, deadlineMs = 3000): Promise<unknown[][]> {
  const out: unknown[][] = [];
  const deadline = Date.now() + deadlineMs;
  while (out.length < count && Date.now() < deadline) {
    const { body } = await get(`vsn=2.0.0&token=${encodeURIComponent(token)}`);
    for (const message of body.messages ?? []) out.push(JSON.parse(message) as unknown[]);
  }
  return out;
}

test("40: the first GET creates a session: HTTP 200, {status:410, token, messages:[]}, no-store, CORS", async () => {
  await setup();
  const first = await get("vsn=2.0.0&user=a");
  assert.equal(first.http, 200);
  assert.equal(first.body.status, 410);
  assert.deepEqual(first.body.messages, []);
  assert.match(first.body.token!, /\./);
  assert.equal(first.headers.get("cache-control"), "no-store");
  assert.equal(first.headers.get("access-control-allow-origin"), "*");
  assert.match(first.headers.get("content-type") ?? "", /application\/json/);
});

test("41/43: an empty poll answers 204 after the window; a parked poll answers 200 as soon as a message is buffered", async () => {
  await setup();
  const token = await session();
  const started = Date.now();
  const empty = await get(`vsn=2.0.0&token=${encodeURIComponent(token)}`);
  assert.deepEqual(empty.body, { status: 204, token, messages: [] });
  assert.ok(Date.now() - started >= windowMs - 20);
  assert.equal((await post(token, [JSON.stringify(["1", "1", "room:parked", "phx_join", {}])])).http, 200);
  await drain(token, 1);
  const parkedAt = Date.now();
  const parked = get(`vsn=2.0.0&token=${encodeURIComponent(token)}`);
  await sleep(50);
  server.endpoint.broadcast("room:parked", "news", { n: 1 });
  const answer = await parked;
  assert.equal(answer.body.status, 200);
  assert.ok(Date.now() - parkedAt < windowMs, "answered before the window ended");
  assert.deepEqual(answer.body.messages!.map((m) => JSON.parse(m)), [[null, null, "room:parked", "news", { n: 1 }]]);
});

test("42: POSTed ndjson frames answer {status:200}; replies come in later GETs as strings", async () => {
  await setup();
  const token = await session();
  const posted = await post(token, [
    JSON.stringify(["1", "1", "room:lp", "phx_join", {}]),
    JSON.stringify(["1", "2", "room:lp", "ping", { a: 1 }]),
  ]);
  assert.deepEqual(posted, { http: 200, body: { status: 200 } });
  const messages = (await drain(token, 3)).filter((m) => m[3] === "phx_reply");
  assert.deepEqual(messages, [
    ["1", "1", "room:lp", "phx_reply", { status: "ok", response: {} }],
    ["1", "2", "room:lp", "phx_reply", { status: "ok", response: { a: 1 } }],
  ]);
});

test("44/45: forged, invalid or dead tokens: POST answers 410, GET starts a new session", async () => {
  await setup();
  const token = await session();
  const forged = `${token.slice(0, token.indexOf(".") + 1)}${"A".repeat(43)}`;
  assert.deepEqual((await post(forged, ["[]"])).body, { status: 410 });
  assert.deepEqual((await post("garbage", ["[]"])).body, { status: 410 });
  const fresh = await get(`vsn=2.0.0&user=b&token=${encodeURIComponent(forged)}`);
  assert.equal(fresh.body.status, 410);
  assert.notEqual(fresh.body.token, token);
  server.endpoint.disconnect("user:lp");
  await sleep(20);
  assert.deepEqual((await post(token, [JSON.stringify([null, "1", "phoenix", "heartbeat", {}])])).body, { status: 410 }, "a disconnected session is gone");
});

test("session tokens are Tokens with their own salt: tampered, wrongly salted and expired ones get POST 410 and, on GET, a new session", async () => {
  const secret = "the long-poll secret of this test server";
  const tokens = await startServer({ socket, pubsub: new PubSub(), longpoll: { windowMs, secret, tokenMaxAge: 60 } });
  try {
    const url = `http://127.0.0.1:${tokens.port}/socket/longpoll`;
    const request = async (method: "GET" | "POST", token: string, body?: string): Promise<Body> => {
      const response = await fetch(`${url}?vsn=2.0.0&user=tok&token=${encodeURIComponent(token)}`, {
        method, ...(body !== undefined ? { body, headers: { "content-type": "application/x-ndjson" } } : {}),
      });
      return await response.json() as Body;
    };
    const created = await (await fetch(`${url}?vsn=2.0.0&user=tok`)).json() as Body;
    assert.equal(created.status, 410);
    const token = created.token!;
    // A Phoenix.Token over the session id (which names the node), signed with the long-poll salt.
    const id = Token.verify<string>(secret, SESSION_TOKEN_SALT, token);
    assert.ok(id.startsWith(`${tokens.endpoint.pubsub.nodeName}~`), id);
    assert.throws(() => Token.verify(secret, "user socket", token), /bad token signature/, "another salt does not verify it");
    const join = JSON.stringify(["1", "1", "room:tok", "phx_join", {}]);
    assert.deepEqual(await request("POST", token, join), { status: 200 });
    assert.equal(tokens.endpoint.connectionCount, 1);

    const [header, payload, signature] = token.split(".") as [string, string, string];
    const flip = (text: string, at: number): string => text.slice(0, at) + (text[at] === "A" ? "B" : "A") + text.slice(at + 1);
    const refused = {
      "a tampered payload": `${header}.${flip(payload, 10)}.${signature}`,
      "a tampered signature": `${header}.${payload}.${flip(signature, 5)}`,
      "the same session id under another salt": Token.sign(secret, "user socket", id),
      "the same session id under another secret": Token.sign("some other secret, long enough", SESSION_TOKEN_SALT, id),
      "a token older than tokenMaxAge (60 s)": Token.sign(secret, SESSION_TOKEN_SALT, id, { signedAt: Date.now() / 1000 - 61, maxAge: 86_400 }),
      "not a token": "garbage",
    };
    for (const [what, bad] of Object.entries(refused)) {
      assert.deepEqual(await request("POST", bad, "[]"), { status: 410 }, `POST with ${what}`);
      const fresh = await request("GET", bad);
      assert.equal(fresh.status, 410, `GET with ${what} creates a new session`);
      assert.deepEqual(fresh.messages, []);
      assert.notEqual(fresh.token, token);
      assert.notEqual(Token.verify<string>(secret, SESSION_TOKEN_SALT, fresh.token!), id, "a new session, not the old one");
    }
    assert.equal(tokens.endpoint.connectionCount, 1 + Object.keys(refused).length, "the original session plus one new session per bad GET");
    // A token for the same session signed afresh with the right secret and salt is accepted.
    const resigned = Token.sign(secret, SESSION_TOKEN_SALT, id, { signedAt: Date.now() / 1000 - 30 });
    assert.deepEqual(await request("POST", resigned, JSON.stringify(["1", "2", "room:tok", "ping", {}])), { status: 200 });
    const polled = await request("GET", token);
    assert.equal(polled.status, 200, "the original session is untouched");
    assert.equal(polled.token, token);
  } finally {
    await tokens.close();
  }
});

test("a long-poll secret shorter than 20 bytes, or a bad tokenMaxAge, is refused when attaching", () => {
  const http = createServer();
  assert.throws(() => attach(http, { socket, logger: silentLogger, longpoll: { secret: "too short" } }), /longpoll\.secret must be at least 20 bytes/);
  assert.throws(() => attach(http, { socket, logger: silentLogger, longpoll: { tokenMaxAge: 0 } }), /longpoll\.tokenMaxAge must be a positive number/);
});

test("46: a refused connect answers {status:403} with HTTP 200", async () => {
  await setup();
  const refused = await get("vsn=2.0.0&user=refused");
  assert.equal(refused.http, 200);
  assert.deepEqual(refused.body, { status: 403 });
  assert.deepEqual((await get("vsn=9.0.0")).body, { status: 403 });
});

test("the Origin is checked on every poll and send, not only when the session opens: a valid token from a foreign page gets {status:403}", async () => {
  const checked = await startServer({ socket, pubsub, longpoll: { windowMs }, checkOrigin: true });
  try {
    const url = `http://127.0.0.1:${checked.port}/socket/longpoll`;
    const own = { origin: `http://127.0.0.1:${checked.port}` };
    const foreign = { origin: "http://evil.example" };
    const poll = async (query: string, headers: Record<string, string>): Promise<Body> =>
      (await fetch(`${url}?${query}`, { headers: { accept: "application/json", ...headers } })).json() as Promise<Body>;
    const opened = await poll("vsn=2.0.0&user=origin", own);
    assert.equal(opened.status, 410);
    const token = encodeURIComponent(opened.token!);
    assert.deepEqual(await poll(`vsn=2.0.0&token=${token}`, foreign), { status: 403 });
    const sent = await fetch(`${url}?vsn=2.0.0&token=${token}`, {
      method: "POST", headers: { "content-type": "application/x-ndjson", ...foreign },
      body: JSON.stringify(["1", "1", "room:origin", "phx_join", {}]),
    });
    assert.deepEqual(await sent.json(), { status: 403 });
    // The session is untouched, and the refused join never ran: the next same-origin poll is empty.
    const next = await poll(`vsn=2.0.0&token=${token}`, own);
    assert.equal(next.status, 204);
    assert.deepEqual(next.messages ?? [], []);
  } finally {
    await checked.close();
  }
});

test("47: OPTIONS preflight answers 200 with the access-control headers; other methods 400", async () => {
  await setup();
  const response = await fetch(base, { method: "OPTIONS", headers: { "access-control-request-headers": "x-phoenix-longpoll-token, content-type" } });
  assert.equal(response.status, 200);
  assert.equal(response.headers.get("access-control-allow-headers"), "x-phoenix-longpoll-token, content-type");
  assert.equal(response.headers.get("access-control-allow-methods"), "get, post, options");
  assert.equal(response.headers.get("access-control-max-age"), "3600");
  assert.equal((await fetch(base, { method: "PUT" })).status, 400);
});

test("48: the session token is taken from X-Phoenix-Longpoll-Token or the last token query value", async () => {
  await setup();
  const token = await session();
  await post(token, [JSON.stringify(["1", "1", "room:hdr", "phx_join", {}])]);
  const viaHeader = await get("vsn=2.0.0&token=users-own-token", { "x-phoenix-longpoll-token": token });
  assert.equal(viaHeader.body.status, 200);
  assert.equal(viaHeader.body.token, token, "poll answers carry the request's token unchanged");
  await post(token, [JSON.stringify(["1", "2", "room:hdr", "ping", {}])]);
  const viaQuery = await get(`vsn=2.0.0&token=users-own-token&token=${encodeURIComponent(token)}`);
  assert.equal(viaQuery.body.status, 200);
});

test("49: only the first 100 lines of a POST are processed", async () => {
  await setup();
  const token = await session();
  await post(token, [JSON.stringify(["1", "1", "room:cap", "phx_join", {}])]);
  await drain(token, 1);
  const lines = Array.from({ length: 101 }, (_, i) => JSON.stringify(["1", String(100 + i), "room:cap", "ping", { i }]));
  assert.deepEqual((await post(token, lines)).body, { status: 200 });
  const replies = (await drain(token, 102, 5000)).filter((m) => m[3] === "phx_reply" && Number(m[1]) >= 100);
  assert.equal(replies.length, 100);
  assert.equal((replies.at(-1)![4] as { response: { i: number } }).response.i, 99);
});

test("malformed POSTs: bad base64 → 400, oversized → 413, bad JSON frame ends the session → 410; the server stays up", async () => {
  await setup();
  const token = await session();
  assert.equal((await post(token, ["!!!not base64!!!"])).http, 400);
  const big = "x".repeat(9 * 1024 * 1024);
  const oversized = await fetch(`${base}?token=${encodeURIComponent(token)}`, { method: "POST", headers: { "content-type": "application/x-ndjson" }, body: big });
  assert.equal(oversized.status, 413);
  assert.deepEqual((await post(token, ["[not json"])).body, { status: 410 });
  assert.deepEqual((await post(token, ["[]"])).body, { status: 410 }, "the session ended");
  const binary = Buffer.concat([Buffer.from([0, 1, 1, 7, 4]), Buffer.from("11room:b64ping"), Buffer.from([1, 2])]).toString("base64");
  const next = await session();
  await post(next, [JSON.stringify(["1", "1", "room:b64", "phx_join", {}]), binary]);
  assert.equal((await drain(next, 1))[0]![3], "phx_reply");
});

test("50: a session that stops polling is reaped: its channels terminate and its presences leave", async () => {
  await setup();
  const watcher = await RawClient.connect(`${server.websocketUrl}?vsn=2.0.0&user=watcher`);
  watcher.send(["1", "1", "room:reap", "phx_join", {}]);
  await watcher.reply("1");
  const token = await session("sleeper");
  await post(token, [JSON.stringify(["1", "1", "room:reap", "phx_join", {}])]);
  await watcher.next((f) => f[3] === "presence_diff" && JSON.stringify(f[4]).includes('"joins":{"sleeper"'));
  const started = Date.now();
  await watcher.next((f) => f[3] === "presence_diff" && JSON.stringify(f[4]).includes('"leaves":{"sleeper"'), 3000);
  const elapsed = Date.now() - started;
  assert.ok(elapsed >= 1.5 * windowMs - 50, `reaped after ${elapsed} ms, not before 1.5 × window`);
  assert.ok(terminated.includes("room:reap:closed"));
  watcher.close();
});

test("cluster: polls and POSTs that reach a node without the session are forwarded to its owner", async () => {
  const { Bus } = await import("./support/bus.js");
  const bus = new Bus();
  const nodes = await Promise.all(["lp-a", "lp-b"].map(async (name) => {
    const nodePubsub = new PubSub({ adapter: bus.adapter(name) });
    await nodePubsub.start();
    return startServer({ socket, pubsub: nodePubsub, longpoll: { windowMs, secret: "a secret shared by the cluster nodes" } });
  }));
  const [a, b] = nodes as [TestServer, TestServer];
  try {
    const urlA = `http://127.0.0.1:${a.port}/socket/longpoll`;
    const urlB = `http://127.0.0.1:${b.port}/socket/longpoll`;
    const created = await (await fetch(`${urlA}?vsn=2.0.0&user=roamer`)).json() as Body;
    assert.equal(created.status, 410);
    const token = created.token!;
    const posted = await fetch(`${urlB}?token=${encodeURIComponent(token)}`, {
      method: "POST", headers: { "content-type": "application/x-ndjson" },
      body: [JSON.stringify(["1", "1", "room:roam", "phx_join", {}]), JSON.stringify(["1", "2", "room:roam", "ping", { via: "b" }])].join("\n"),
    });
    assert.deepEqual(await posted.json(), { status: 200 }, "the POST on b was dispatched by a");
    const replies: unknown[][] = [];
    const deadline = Date.now() + 3000;
    while (replies.filter((m) => m[3] === "phx_reply").length < 2 && Date.now() < deadline) {
      const polled = await (await fetch(`${urlB}?token=${encodeURIComponent(token)}`)).json() as Body;
      assert.equal(polled.token, token, "the answer carries the request's token");
      assert.notEqual(polled.status, 410, "the poll on b reached the session on a");
      for (const message of polled.messages ?? []) replies.push(JSON.parse(message) as unknown[]);
    }
    assert.deepEqual(replies.filter((m) => m[3] === "phx_reply").map((m) => m[4]),
      [{ status: "ok", response: {} }, { status: "ok", response: { via: "b" } }]);
    assert.equal(b.endpoint.connectionCount, 0, "b holds no session of its own");
    a.endpoint.disconnect("user:roamer");
    await sleep(50);
    const gone = await (await fetch(`${urlB}?token=${encodeURIComponent(token)}`, {
      method: "POST", headers: { "content-type": "application/x-ndjson" }, body: "[]",
    })).json();
    assert.deepEqual(gone, { status: 410 }, "a session that ended on its owner is gone everywhere");
  } finally {
    await Promise.all(nodes.map((node) => node.close()));
  }
});
