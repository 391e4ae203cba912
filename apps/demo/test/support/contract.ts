/**
 * The apps' contract, as tests, for one database engine: accounts and the API, socket
 * authentication, retro rooms, video annotations, the pointing party, admin notifications and
 * online counts — driven with the official `phoenix` client — and a restart that keeps the data.
 */
import { test, after, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { Token } from "@cinder/server";
import { WebSocket } from "ws";
import { DEFAULT_LEAVE_GRACE_MS } from "../../src/channels/party.js";
import { missing, postgresReachable, TestApp, until, type Client, type Engine } from "./app.js";

/** Registers the contract tests for `engine`. */
export function appContract(engine: Engine): void {
  let shared: TestApp | undefined;
  const clients: Client[] = [];
  after(async () => {
    for (const client of clients) client.close();
    await shared?.destroy();
  });
  const setup = async (t: TestContext): Promise<TestApp | undefined> => {
    if (engine === "postgres" && !(await postgresReachable())) {
      missing(t, "PostgreSQL");
      return undefined;
    }
    shared ??= await new TestApp(engine).start();
    return shared;
  };
  const connect = (app: TestApp, token: string, params?: () => Record<string, unknown>): Client => {
    const client = app.client(token, params);
    clients.push(client);
    return client;
  };

  test(`${engine}: accounts — sign up, sign in, bad input, tokens on the API`, async (t) => {
    const app = await setup(t);
    if (app === undefined) return;
    const created = await app.api("POST", "/api/users", { username: "ann_1", password: "password1" });
    assert.equal(created.status, 201);
    assert.deepEqual(Object.keys(created.body).sort(), ["token", "user"]);
    assert.deepEqual((created.body.user as Record<string, unknown>).username, "ann_1");
    assert.equal((await app.api("POST", "/api/users", { username: "ann_1", password: "password1" })).status, 409);
    for (const bad of [{ username: "", password: "password1" }, { username: "a b", password: "password1" }, { username: "x".repeat(33), password: "password1" },
      { username: "ok", password: "short" }, { username: 5, password: "password1" }, "nope", null]) {
      const answer = await app.api("POST", "/api/users", bad);
      assert.ok(answer.status >= 400 && answer.status < 500, `${JSON.stringify(bad)} → ${answer.status}`);
      assert.equal(typeof answer.body.error, "string");
    }
    const session = await app.api("POST", "/api/session", { username: "ann_1", password: "password1" });
    assert.equal(session.status, 200);
    assert.deepEqual(session.body.user, created.body.user);
    assert.equal((await app.api("POST", "/api/session", { username: "ann_1", password: "wrong pass" })).status, 401);
    assert.equal((await app.api("POST", "/api/session", { username: "nobody", password: "password1" })).status, 401);
    assert.equal((await app.api("GET", "/api/videos")).status, 401);
    assert.equal((await app.api("GET", "/api/videos", undefined, "tampered.token.value")).status, 401);
    assert.equal((await app.api("GET", "/api/videos", undefined, String(session.body.token))).status, 200);
    const raw = await fetch(`${app.base}/api/users`, { method: "POST", headers: { "content-type": "application/json" }, body: "{not json" });
    assert.equal(raw.status, 400);
    assert.equal((await fetch(`${app.base}/`)).headers.get("content-type"), "text/html; charset=utf-8");
  });

  test(`${engine}: the socket refuses missing, tampered and expired tokens`, async (t) => {
    const app = await setup(t);
    if (app === undefined) return;
    const { token, user } = await app.signUp("sock");
    const status = (query: string): Promise<number> => new Promise((resolve) => {
      const ws = new WebSocket(`${app.base.replace("http", "ws")}/socket/websocket?vsn=2.0.0${query}`);
      ws.on("open", () => { ws.close(); resolve(101); });
      ws.on("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
      ws.on("error", () => undefined);
    });
    assert.equal(await status(`&token=${encodeURIComponent(token)}`), 101);
    assert.equal(await status(""), 403);
    assert.equal(await status(`&token=${encodeURIComponent(token.slice(0, -2) + "xx")}`), 403);
    const old = Token.sign(app.config.secretKeyBase, "user socket", user.id, { signedAt: Date.now() / 1000 - 15 * 24 * 3600, maxAge: 30 * 24 * 3600 });
    assert.equal(await status(`&token=${encodeURIComponent(old)}`), 403, "older than two weeks");
  });

  test(`${engine}: GET /metrics from this machine answers Prometheus metrics that count real sockets and joins`, async (t) => {
    const app = await setup(t);
    if (app === undefined) return;
    const sample = async (name: string): Promise<number> => {
      const response = await fetch(`${app.base}/metrics`);
      assert.equal(response.status, 200);
      const line = (await response.text()).split("\n").find((l) => l.split(" ")[0] === name);
      return line === undefined ? 0 : Number(line.split(" ").at(-1));
    };
    const joins = 'cinder_joins_total{pattern="room:*",status="ok"}';
    const joinsBefore = await sample(joins);
    const { token } = await app.signUp("metrics_mo");
    const c = connect(app, token);
    assert.equal((await c.join("room:metrics")).reply.status, "ok");
    assert.ok(await sample('cinder_connections{transport="websocket"}') >= 1, "the open socket is counted");
    assert.ok(await sample(joins) >= joinsBefore + 1, "the join is counted");
    assert.ok(await sample('cinder_channels_joined{pattern="room:*"}') >= 1, "the joined channel is counted");
    c.close();
  });

  test(`${engine}: retro rooms — history, messages both ways, bad payloads, presence`, async (t) => {
    const app = await setup(t);
    if (app === undefined) return;
    const ann = await app.signUp("retro_ann");
    const bob = await app.signUp("retro_bob");
    const a = connect(app, ann.token);
    const b = connect(app, bob.token);
    const joinedA = await a.join("room:sprint-1", {}, ["message:new"]);
    assert.equal(joinedA.reply.status, "ok");
    assert.deepEqual(joinedA.reply.response.messages, []);
    assert.equal(joinedA.reply.response.more, false);
    const joinedB = await b.join("room:sprint-1", {}, ["message:new"]);
    await until(() => joinedA.presence.list((key) => key).sort().join() === "retro_ann,retro_bob" || undefined, 3000, "both present for ann");
    const metas = joinedB.presence.list((_key, p) => p.metas[0]);
    await until(() => joinedB.presence.list().length === 2 || undefined, 3000, "both present for bob");
    assert.equal(typeof (joinedB.presence.list((_k, p) => p.metas[0]!.online_at)[0]), "number", `online_at in metas ${JSON.stringify(metas)}`);

    assert.deepEqual(await a.call(joinedA.channel, "message:new", { body: "hello from ann" }), { status: "ok", response: {} });
    const seen = await b.next("room:sprint-1", "message:new", (p) => p.body === "hello from ann");
    assert.equal(seen.user, "retro_ann");
    assert.equal(typeof seen.id, "number");
    assert.ok(Math.abs(Number(seen.inserted_at) - Date.now()) < 60_000);
    await b.call(joinedB.channel, "message:new", { body: "and from bob" });
    await a.next("room:sprint-1", "message:new", (p) => p.user === "retro_bob");

    for (const bad of [{ body: "" }, { body: "   " }, { body: "x".repeat(2001) }, { body: 42 }, {}]) {
      const answer = await a.call(joinedA.channel, "message:new", bad);
      assert.equal(answer.status, "error", JSON.stringify(bad));
      assert.equal(answer.response.reason, "invalid_payload");
    }
    for (let i = 0; i < 53; i++) await a.call(joinedA.channel, "message:new", { body: `m${i}` });
    const late = connect(app, bob.token);
    const history = (await late.join("room:sprint-1")).reply.response.messages as Array<{ body: string }>;
    assert.equal(history.length, 50, "the last 50 messages");
    assert.equal(history[0]!.body, "m3", "oldest first");
    assert.equal(history[49]!.body, "m52");
  });

  test(`${engine}: videos — list and add, annotations, last_seen_id, bad payloads, decorated presence`, async (t) => {
    const app = await setup(t);
    if (app === undefined) return;
    const vic = await app.signUp("vid_vic");
    const wes = await app.signUp("vid_wes");
    const list = await app.api("GET", "/api/videos", undefined, vic.token);
    assert.ok((list.body.videos as Array<{ url: string }>).some((v) => v.url === "/assets/sample.webm"), "ships a sample video");
    const added = await app.api("POST", "/api/videos", { title: "Talk", url: "https://www.youtube.com/watch?v=dQw4w9WgXcQ" }, vic.token);
    assert.equal(added.status, 201);
    assert.deepEqual(Object.keys(added.body).sort(), ["id", "title", "url"]);
    assert.equal((await app.api("POST", "/api/videos", { title: "x", url: "javascript:alert(1)" }, vic.token)).status, 400);
    assert.equal((await app.api("POST", "/api/videos", { title: "", url: "https://a.example/v.mp4" }, vic.token)).status, 400);
    const id = Number(added.body.id);

    const v = connect(app, vic.token);
    assert.deepEqual((await v.join("videos:999999")).reply, { status: "error", response: { reason: "not_found" } });
    let lastSeen = 0;
    const w = connect(app, wes.token, () => ({ token: wes.token }));
    const joinedV = await v.join(`videos:${id}`, {}, ["new_annotation"]);
    assert.deepEqual({ ...joinedV.reply.response, now: 0 }, { annotations: [], changed: [], deleted: [], now: 0 });
    // wes's channel passes last_seen_id as a params function, re-evaluated on every rejoin.
    const wesChannel = w.socket.channel(`videos:${id}`, () => ({ last_seen_id: lastSeen }));
    const wesReplies: Array<{ annotations: Array<{ id: number; body: string }> }> = [];
    wesChannel.on("new_annotation", (payload) => w.events.push({ topic: `videos:${id}`, event: "new_annotation", payload: payload as Record<string, unknown> }));
    wesChannel.join().receive("ok", (reply) => wesReplies.push(reply as (typeof wesReplies)[number]));
    await until(() => joinedV.presence.list().length === 2 || undefined, 3000, "two viewers");
    const names = joinedV.presence.list((key, p) => [key, (p.user as { username: string }).username]).sort();
    assert.deepEqual(names, [[String(vic.user.id), "vid_vic"], [String(wes.user.id), "vid_wes"]].sort(), "keyed by user id, decorated with the username");

    assert.equal((await v.call(joinedV.channel, "new_annotation", { body: "later", at: 5000 })).status, "ok");
    assert.equal((await v.call(joinedV.channel, "new_annotation", { body: "earlier", at: 1000 })).status, "ok");
    const got = await w.next(`videos:${id}`, "new_annotation", (p) => p.body === "later");
    assert.deepEqual(Object.keys(got).sort(), ["at", "body", "edited", "id", "parent_id", "user"]);
    assert.deepEqual(got.user, { id: vic.user.id, username: "vid_vic" });
    for (const bad of [{ body: "x", at: -1 }, { body: "x", at: 1.5 }, { body: "", at: 1 }, { body: "x".repeat(501), at: 1 }, { body: "x" }]) {
      const answer = await v.call(joinedV.channel, "new_annotation", bad);
      assert.equal(answer.response.reason, "invalid_payload", JSON.stringify(bad));
    }
    const fresh = connect(app, wes.token);
    const all = (await fresh.join(`videos:${id}`)).reply.response.annotations as Array<{ id: number; body: string; at: number }>;
    assert.deepEqual(all.map((a) => a.body), ["earlier", "later"], "ordered by at");
    await until(() => w.events.filter((e) => e.event === "new_annotation").length === 2 || undefined, 3000, "both annotations live");
    lastSeen = Math.max(...all.map((a) => a.id));

    // wes loses his connection; vic annotates meanwhile; the rejoin fetches only what was missed.
    await app.app.disconnectUser(wes.user.id);
    await until(() => w.closeCodes.includes(1001) || undefined, 3000, "wes disconnected");
    await v.call(joinedV.channel, "new_annotation", { body: "while away", at: 3000 });
    await until(() => wesReplies.length >= 2 || undefined, 5000, "wes's rejoin");
    assert.deepEqual(wesReplies[0]!.annotations, [], "the first join had nothing");
    assert.deepEqual(wesReplies.at(-1)!.annotations.map((a) => a.body), ["while away"], "the rejoin fetched only what was missed");
  });

  test(`${engine}: pointing party — cards, driver, votes in presence, winner stored, tie, not_driver, party over`, async (t) => {
    const app = await setup(t);
    if (app === undefined) return;
    const pam = await app.signUp("party_pam");
    const quin = await app.signUp("party_quin");
    const cards = await app.api("GET", "/api/parties/sprint/cards", undefined, pam.token);
    assert.equal((cards.body.cards as unknown[]).length, 3, "a new party starts with sample cards");
    assert.equal((await app.api("POST", "/api/parties/sprint/cards", { title: "Fourth", description: "the last one" }, pam.token)).status, 201);
    assert.equal((await app.api("POST", "/api/parties/sprint/cards", { title: "" }, pam.token)).status, 400);
    const events = ["new_card", "winner", "party_over"];
    const p = connect(app, pam.token);
    const q = connect(app, quin.token);
    const jp = await p.join("party:sprint", {}, events);
    const jq = await q.join("party:sprint", {}, events);
    await until(() => jp.presence.list().length === 2 || undefined, 3000, "both in the party");
    assert.deepEqual(jp.presence.list((_k, pr) => pr.metas[0]!.points), [null, null]);

    assert.equal((await p.call(jp.channel, "vote", { points: 3 })).response.reason, "no_card", "no voting before a card is dealt");
    assert.deepEqual(await p.call(jp.channel, "start", {}), { status: "ok", response: {} });
    const first = await q.next("party:sprint", "new_card");
    assert.equal(first.driver, "party_pam");
    assert.deepEqual(Object.keys(first.card as object).sort(), ["description", "id", "position", "title"]);
    assert.equal((first.card as { position: number }).position, 1, "the card's place in the backlog");
    assert.equal((await q.call(jq.channel, "next_card", {})).response.reason, "not_driver");
    assert.equal((await q.call(jq.channel, "vote", { points: 4 })).response.reason, "not_in_deck", "only the cards of the deck");
    await p.call(jp.channel, "vote", { points: 5 });
    await until(() => jq.presence.list((_k, pr) => pr.metas[0]!.points).includes(5) || undefined, 3000, "pam's vote in her meta");
    assert.equal(p.events.filter((e) => e.event === "winner").length, 0, "no winner until everyone voted");
    const taken = await q.call(jq.channel, "start", {});
    assert.deepEqual([taken.status, taken.response.reason], ["error", "not_driver"], "a non-driver's start is refused");
    assert.ok(jq.presence.list((_k, pr) => pr.metas[0]!.points).includes(5), "and wipes no vote");
    await q.call(jq.channel, "vote", { points: 5 });
    assert.deepEqual(await p.next("party:sprint", "winner"), { points: 5, stats: { average: 5, min: 5, max: 5, count: 2 } });
    assert.equal((await q.call(jq.channel, "vote", { points: 8 })).response.reason, "revealed", "a revealed card is final");
    const estimated = (await app.api("GET", "/api/parties/sprint/cards", undefined, pam.token)).body.cards as Array<{ id: number; estimate: number | null }>;
    assert.equal(estimated.find((c) => c.id === (first.card as { id: number }).id)!.estimate, 5, "the winner is stored");

    await p.call(jp.channel, "next_card", {});
    await q.next("party:sprint", "new_card", (e) => (e.card as { id: number }).id !== (first.card as { id: number }).id);
    await until(() => jq.presence.list((_k, pr) => pr.metas[0]!.points).every((v) => v === null) || undefined, 3000, "votes reset for the new card");
    await p.call(jp.channel, "vote", { points: 2 });
    await q.call(jq.channel, "vote", { points: 8 });
    assert.deepEqual(await q.next("party:sprint", "winner", (w) => "tie" in w), { tie: [2, 8], stats: { average: 5, min: 2, max: 8, count: 2 } });
    await p.call(jp.channel, "next_card", {});
    await p.call(jp.channel, "next_card", {});
    await p.call(jp.channel, "next_card", {});
    const over = await q.next("party:sprint", "party_over");
    const estimates = over.estimates as Array<{ card: { title: string }; points: number }>;
    assert.deepEqual(estimates.map((e) => e.points), [5]);
  });

  test(`${engine}: pointing party — a driver gone past the leave grace frees the role; anyone may take it, then only they drive`, async (t) => {
    const app = await setup(t);
    if (app === undefined) return;
    const ann = await app.signUp("party_ann");
    const ben = await app.signUp("party_ben");
    const a = connect(app, ann.token);
    const ja = await a.join("party:solo", {}, ["new_card"]);
    await until(() => ja.presence.list().length === 1 || undefined, 3000, "ann in the party");
    assert.equal((await a.call(ja.channel, "start", {})).status, "ok");
    await a.next("party:solo", "new_card");
    a.close();
    // Past the grace (default 1500 ms) ann has left; nobody else was there, so nobody drives.
    await new Promise((resolve) => setTimeout(resolve, 2 * DEFAULT_LEAVE_GRACE_MS));
    const b = connect(app, ben.token);
    const jb = await b.join("party:solo", {}, ["new_card", "driver"]);
    assert.equal(jb.reply.response.driver, null, "the role is free");
    assert.equal((jb.reply.response.card as { position: number }).position, 1, "the card stays on the table");
    assert.equal((await b.call(jb.channel, "next_card", {})).response.reason, "not_driver");
    assert.equal((await b.call(jb.channel, "take", {})).status, "ok");
    assert.deepEqual(await b.next("party:solo", "driver"), { driver: "party_ben" });
    const back = connect(app, ann.token);
    const jback = await back.join("party:solo", {}, []);
    assert.equal((await back.call(jback.channel, "take", {})).response.reason, "driver_present");
    assert.equal((await back.call(jback.channel, "start", {})).response.reason, "not_driver");
    assert.equal((await b.call(jb.channel, "next_card", {})).status, "ok");
    assert.equal(((await b.next("party:solo", "new_card")).card as { position: number }).position, 2);
  });

  test(`${engine}: pointing party — 8 concurrent first requests for a new party's cards create the samples once`, async (t) => {
    const app = await setup(t);
    if (app === undefined) return;
    const user = await app.signUp("party_rush");
    // Five new parties in turn (the first also warms the connection pool, which would serialize it).
    for (let trial = 0; trial < 5; trial++) {
      const party = `rush_${trial}_${Math.random().toString(36).slice(2)}`;
      const added: Array<{ status: number }> = await Promise.all(Array.from({ length: 8 }, (_, i) =>
        app.api("POST", `/api/parties/${party}/cards`, { title: `Card ${i}` }, user.token)));
      assert.deepEqual(added.map((r) => r.status), Array(8).fill(201));
      const cards = (await app.api("GET", `/api/parties/${party}/cards`, undefined, user.token)).body.cards as Array<{ title: string }>;
      assert.equal(cards.length, 3 + 8, `trial ${trial}: three sample cards, once, and the eight added`);
      assert.deepEqual(cards.slice(0, 3).map((c) => c.title), ["Sign-up form", "Presence list", "Export estimates"]);
    }
  });

  test(`${engine}: admin — broadcast to every page, notes to one user, force-disconnect, online counts`, async (t) => {
    const app = await setup(t);
    if (app === undefined) return;
    const admin = { token: await app.adminToken() };
    const uma = await app.signUp("note_uma");
    const vi = await app.signUp("note_vi");
    const u = connect(app, uma.token);
    const v = connect(app, vi.token);
    const u2 = connect(app, uma.token);
    await u.join("notifications:all", {}, ["new_msg", "online"]);
    await u.join(`notifications:user:${uma.user.id}`, {}, ["new_msg"]);
    await v.join("notifications:all", {}, ["new_msg"]);
    await u2.join("notifications:all");
    assert.deepEqual((await v.join(`notifications:user:${uma.user.id}`)).reply, { status: "error", response: { reason: "unauthorized" } });
    await u.next("notifications:all", "online", (c) => c.users === 2 && c.connections === 3);

    assert.equal((await app.api("POST", "/api/admin/broadcast", { body: "hi" }, uma.token)).status, 403, "non-admins get 403");
    assert.equal((await app.api("POST", "/api/admin/broadcast", { body: "hi" })).status, 401);
    assert.equal((await app.api("POST", "/api/admin/broadcast", { body: "" }, admin.token)).status, 400);
    assert.equal((await app.api("POST", "/api/admin/broadcast", { body: "deploy at 5" }, admin.token)).status, 200);
    const note = await v.next("notifications:all", "new_msg");
    assert.equal(note.body, "deploy at 5");
    assert.equal(typeof note.at, "number");
    assert.equal((await app.api("POST", "/api/admin/notify", { username: "note_uma", body: "just you" }, admin.token)).status, 200);
    await u.next(`notifications:user:${uma.user.id}`, "new_msg", (m) => m.body === "just you");
    assert.equal((await app.api("POST", "/api/admin/notify", { username: "ghost", body: "x" }, admin.token)).status, 404);
    assert.equal((await app.api("POST", "/api/admin/disconnect", { username: "note_uma" }, admin.token)).status, 200);
    await until(() => (u.closeCodes.includes(1001) && u2.closeCodes.includes(1001)) || undefined, 3000, "every tab of uma dropped");
    assert.ok(!v.closeCodes.includes(1001), "others stay");
  });

  test(`${engine}: a restart keeps users, messages, annotations and estimates`, async (t) => {
    const app = await setup(t);
    if (app === undefined) return;
    const before = (await app.api("POST", "/api/session", { username: "retro_ann", password: "correct horse" }));
    assert.equal(before.status, 200);
    await app.stop();
    await app.start();
    const again = await app.api("POST", "/api/session", { username: "retro_ann", password: "correct horse" });
    assert.equal(again.status, 200, "users survive");
    const token = String(again.body.token);
    assert.equal((await app.api("GET", "/api/videos", undefined, String(before.body.token))).status, 200, "tokens survive (same secret)");
    const c = connect(app, token);
    const history = (await c.join("room:sprint-1")).reply.response.messages as unknown[];
    assert.equal(history.length, 50, "messages survive");
    const videos = (await app.api("GET", "/api/videos", undefined, token)).body.videos as Array<{ id: number; title: string }>;
    assert.equal(videos.filter((v) => v.title === "Sample: counting to twenty").length, 1, "the sample video is not added twice");
    const talk = videos.find((v) => v.title === "Talk")!;
    const annotations = (await c.join(`videos:${talk.id}`)).reply.response.annotations as unknown[];
    assert.equal(annotations.length, 3, "annotations survive");
    const cards = (await app.api("GET", "/api/parties/sprint/cards", undefined, token)).body.cards as Array<{ estimate: number | null }>;
    assert.ok(cards.some((card) => card.estimate === 5), "estimates survive");
  });
}
