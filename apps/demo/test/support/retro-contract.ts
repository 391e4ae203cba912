/**
 * The retro board's and the video annotations' contract, for one database engine, driven with
 * the official `phoenix` client: who may do what at which stage, the vote budget under
 * concurrent clicks (seeded random interleavings from two tabs), the facilitator handed over
 * when they leave, the board complete after a rejoin and a restart, chat history by pages, the
 * export; annotation replies, edits and deletions (and what a rejoin missed of them), and
 * watcher positions in presence at a bounded rate.
 */
import { after, test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import type { Channel } from "phoenix";
import { missing, postgresReachable, TestApp, until, type Client, type Engine } from "./app.js";
import { prng } from "./prng.js";

/** Registers the retro board and annotation tests for `engine`. */
export function retroContract(engine: Engine): void {
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
    if (shared === undefined) {
      shared = new TestApp(engine);
      shared.config.positionIntervalMs = 200;
      await shared.start();
    }
    return shared;
  };
  const connect = (app: TestApp, token: string): Client => {
    const client = app.client(token);
    clients.push(client);
    return client;
  };
  const BOARD_EVENTS = ["idea:saved", "idea:deleted", "action:saved", "action:deleted", "board:stage", "board:facilitator", "message:new"];

  test(`${engine}: retro board — stages, own ideas, vote budget, facilitator hand-over, actions, export, history, restart`, async (t) => {
    const app = await setup(t);
    if (app === undefined) return;
    const [ann, bob, cat] = [await app.signUp("board_ann"), await app.signUp("board_bob"), await app.signUp("board_cat")];
    const topic = "room:board-1";
    const a = connect(app, ann.token);
    const A = await a.join(topic, {}, BOARD_EVENTS);
    const board = A.reply.response.board as Record<string, unknown>;
    assert.deepEqual({ ...board }, { stage: "brainstorm", facilitator: null, vote_budget: 3, ideas: [], actions: [] }, "a new room's board");
    await a.next(topic, "board:facilitator", (p) => p.facilitator === "board_ann");
    const b = connect(app, bob.token);
    const B = await b.join(topic, {}, BOARD_EVENTS);
    assert.equal((B.reply.response.board as { facilitator: string }).facilitator, "board_ann", "the first one here facilitates");
    const c = connect(app, cat.token);
    const C = await c.join(topic, {}, BOARD_EVENTS);
    await until(() => A.presence.list().length === 3 || undefined, 3000, "three present");

    // ideas: anyone adds; only the author edits or deletes
    const bad = await b.call(B.channel, "idea:add", { column: "sideways", body: "x" });
    assert.equal(bad.response.reason, "invalid_payload");
    const added = await b.call(B.channel, "idea:add", { column: "went_well", body: "Demo went smoothly" });
    assert.equal(added.status, "ok");
    const ideaId = Number(added.response.id);
    const seen = await a.next(topic, "idea:saved", (p) => p.id === ideaId);
    assert.deepEqual(seen, { id: ideaId, column: "went_well", body: "Demo went smoothly", author: "board_bob", votes: 0, voters: {} });
    assert.deepEqual((await c.call(C.channel, "idea:edit", { id: ideaId, body: "hijacked" })).response.reason, "not_yours");
    assert.deepEqual((await c.call(C.channel, "idea:delete", { id: ideaId })).response.reason, "not_yours");
    assert.equal((await b.call(B.channel, "idea:edit", { id: ideaId, body: "The demo went smoothly" })).status, "ok");
    await c.next(topic, "idea:saved", (p) => p.id === ideaId && p.body === "The demo went smoothly");
    const doomed = Number((await c.call(C.channel, "idea:add", { column: "questions", body: "Typo" })).response.id);
    assert.equal((await c.call(C.channel, "idea:delete", { id: doomed })).status, "ok");
    await a.next(topic, "idea:deleted", (p) => p.id === doomed);
    const second = Number((await c.call(C.channel, "idea:add", { column: "to_improve", body: "Flaky CI" })).response.id);

    // stages: only the facilitator, one at a time; votes only during the vote
    assert.equal((await b.call(B.channel, "vote:add", { idea_id: ideaId })).response.reason, "stage_closed");
    assert.equal((await b.call(B.channel, "stage:set", { stage: "vote" })).response.reason, "not_facilitator");
    assert.equal((await a.call(A.channel, "stage:set", { stage: "discuss" })).response.reason, "invalid_stage");
    assert.equal((await a.call(A.channel, "stage:set", { stage: "vote" })).status, "ok");
    await c.next(topic, "board:stage", (p) => p.stage === "vote");
    assert.equal((await c.call(C.channel, "idea:add", { column: "to_improve", body: "late" })).response.reason, "stage_closed");
    assert.equal((await b.call(B.channel, "idea:edit", { id: ideaId, body: "changed during the vote" })).response.reason, "stage_closed");
    assert.equal((await b.call(B.channel, "vote:remove", { idea_id: ideaId })).response.reason, "no_vote");

    // the budget holds under concurrent clicks: cat in two tabs, random interleavings (seeded)
    const c2 = connect(app, cat.token);
    const C2 = await c2.join(topic);
    const rand = prng(engine === "sqlite" ? 1301 : 1302);
    const pushes: Array<Promise<string>> = [];
    for (let i = 0; i < 8; i++) {
      const [client, channel] = rand() < 0.5 ? [c, C.channel] : [c2, C2.channel];
      pushes.push(client.call(channel, "vote:add", { idea_id: rand() < 0.5 ? ideaId : second }).then((r) => String(r.response.reason ?? r.status)));
      if (rand() < 0.3) await new Promise((resolve) => setImmediate(resolve));
    }
    const outcomes = (await Promise.all(pushes)).sort();
    assert.deepEqual(outcomes, ["no_votes_left", "no_votes_left", "no_votes_left", "no_votes_left", "no_votes_left", "ok", "ok", "ok"]);
    assert.equal((await a.call(A.channel, "vote:add", { idea_id: ideaId })).status, "ok");
    assert.equal((await a.call(A.channel, "vote:add", { idea_id: ideaId })).status, "ok");
    assert.equal((await a.call(A.channel, "vote:remove", { idea_id: ideaId })).status, "ok");
    const fresh = connect(app, bob.token);
    const snapshot = (await fresh.join(topic)).reply.response.board as { ideas: Array<{ id: number; votes: number; voters: Record<string, number> }> };
    const catVotes = snapshot.ideas.reduce((sum, idea) => sum + (idea.voters.board_cat ?? 0), 0);
    assert.equal(catVotes, 3, "exactly the budget");
    assert.equal(snapshot.ideas.find((i) => i.id === ideaId)!.voters.board_ann, 1);
    fresh.close();

    // actions, from the discussion on, with owners; the author or the facilitator change them
    assert.equal((await c.call(C.channel, "action:add", { body: "too early", owner: null })).response.reason, "stage_closed");
    await a.call(A.channel, "stage:set", { stage: "discuss" });
    assert.equal((await c.call(C.channel, "vote:add", { idea_id: ideaId })).response.reason, "stage_closed", "votes are closed after the vote");
    assert.equal((await c.call(C.channel, "action:add", { body: "Fix CI", owner: "nobody_here" })).response.reason, "unknown_owner");
    assert.equal((await c.call(C.channel, "action:add", { body: "Fix CI", owner: "board_bob" })).status, "ok");
    const action = await a.next(topic, "action:saved", (p) => p.body === "Fix CI");
    assert.deepEqual(action, { id: action.id, body: "Fix CI", owner: "board_bob", author: "board_cat" });
    assert.equal((await b.call(B.channel, "action:delete", { id: Number(action.id) })).response.reason, "not_yours");
    assert.equal((await a.call(A.channel, "action:edit", { id: Number(action.id), body: "Fix CI this week", owner: "board_cat" })).status, "ok");
    await b.next(topic, "action:saved", (p) => p.body === "Fix CI this week" && p.owner === "board_cat");
    await a.call(A.channel, "stage:set", { stage: "actions" });

    // the export
    const markdown = String((await b.call(B.channel, "board:export", { format: "markdown" })).response.content);
    assert.match(markdown, /^# Retro: board-1\n/);
    const votes = (id: number): string => { const n = snapshot.ideas.find((i) => i.id === id)!.votes; return `${n} ${n === 1 ? "vote" : "votes"}`; };
    assert.ok(markdown.includes(`## Went well\n\n- The demo went smoothly (${votes(ideaId)}, board_bob)`), markdown);
    assert.ok(markdown.includes(`## To improve\n\n- Flaky CI (${votes(second)}, board_cat)`), markdown);
    assert.match(markdown, /- \[ \] Fix CI this week — board_cat/);
    const csv = (await b.call(B.channel, "board:export", { format: "csv" })).response;
    assert.equal(csv.filename, "retro-board-1.csv");
    assert.match(String(csv.content), new RegExp(`^type,column,text,votes,author,owner\r\nidea,Went well,The demo went smoothly,${votes(ideaId).split(" ")[0]},board_bob,\r\n`));

    // the facilitator leaves: the one here longest (bob) takes over; he may pass it on; a claim needs the facilitator gone
    A.channel.leave();
    await b.next(topic, "board:facilitator", (p) => p.facilitator === "board_bob");
    assert.equal((await c.call(C.channel, "facilitator:claim", {})).response.reason, "facilitator_present");
    assert.equal((await c.call(C.channel, "facilitator:pass", { to: "board_cat" })).response.reason, "not_facilitator");
    assert.equal((await b.call(B.channel, "facilitator:pass", { to: "board_ann" })).response.reason, "not_present");
    assert.equal((await b.call(B.channel, "facilitator:pass", { to: "board_cat" })).status, "ok");
    await b.next(topic, "board:facilitator", (p) => p.facilitator === "board_cat");

    // chat history by pages of 50
    for (let i = 0; i < 60; i++) await b.call(B.channel, "message:new", { body: `m${i}` });
    const late = connect(app, ann.token);
    const joined = (await late.join(topic)).reply.response as { messages: Array<{ id: number; body: string }>; more: boolean };
    assert.equal(joined.messages.length, 50);
    assert.equal(joined.more, true);
    const page = await late.call((await late.join("room:board-1")).channel, "history:before", { before_id: joined.messages[0]!.id });
    assert.deepEqual((page.response.messages as Array<{ body: string }>).map((m) => m.body), Array.from({ length: 10 }, (_, i) => `m${i}`));
    assert.equal(page.response.more, false);

    // a restart: the board comes back complete
    const before = (await connect(app, ann.token).join(topic)).reply.response.board;
    for (const client of clients) client.close();
    await app.stop();
    await app.start();
    const back = (await connect(app, cat.token).join(topic)).reply.response.board as Record<string, unknown>;
    assert.deepEqual({ ...back, facilitator: null }, { ...(before as Record<string, unknown>), facilitator: null }, "stage, ideas, votes and actions survive");
  });

  test(`${engine}: annotations — replies, own edits and deletions, what a rejoin missed, watcher positions at a bounded rate`, async (t) => {
    const app = await setup(t);
    if (app === undefined) return;
    const [vic, wes] = [await app.signUp("note_vic"), await app.signUp("note_wes")];
    const videoId = Number((await app.api("POST", "/api/videos", { title: "Notes", url: "https://a.example/v.mp4" }, vic.token)).body.id);
    const topic = `videos:${videoId}`;
    const events = ["new_annotation", "annotation_updated", "annotation_deleted", "presence_diff"];
    const v = connect(app, vic.token);
    const V = await v.join(topic, {}, events);
    const w = connect(app, wes.token);
    const W = await w.join(topic, {}, events);
    await until(() => V.presence.list().length === 2 || undefined, 3000, "two watchers");
    const meta = (client: { presence: typeof V.presence }, userId: number): Record<string, unknown> | undefined =>
      client.presence.list((key, p) => (key === String(userId) ? p.metas[0] : undefined)).find((m) => m !== undefined);
    assert.deepEqual({ ...meta(W, vic.user.id), online_at: 0, reported_at: 0, phx_ref: "" }, { online_at: 0, at: 0, playing: false, reported_at: 0, phx_ref: "" });

    const parent = Number((await v.call(V.channel, "new_annotation", { body: "Look here", at: 4000 })).response.id);
    const reply = await w.call(W.channel, "new_annotation", { body: "Agreed", at: 99, parent_id: parent });
    assert.equal(reply.status, "ok");
    const got = await v.next(topic, "new_annotation", (p) => p.body === "Agreed");
    assert.equal(got.parent_id, parent);
    assert.equal(got.at, 4000, "a reply takes its parent's time");
    assert.equal((await w.call(W.channel, "new_annotation", { body: "x", at: 1, parent_id: Number(reply.response.id) })).response.reason, "not_found", "replies are one level deep");
    assert.equal((await w.call(W.channel, "new_annotation", { body: "x", at: 1, parent_id: 99_999_999 })).response.reason, "not_found");
    assert.equal((await w.call(W.channel, "edit_annotation", { id: parent, body: "mine now" })).response.reason, "not_yours");
    assert.equal((await w.call(W.channel, "delete_annotation", { id: parent })).response.reason, "not_yours");
    assert.equal((await v.call(V.channel, "edit_annotation", { id: parent, body: "Look here, carefully" })).status, "ok");
    const edited = await w.next(topic, "annotation_updated", (p) => p.id === parent);
    assert.equal(edited.body, "Look here, carefully");
    assert.equal(edited.edited, true);

    // a page that saw everything up to now and rejoins later gets what changed meanwhile
    const upTo = Number(reply.response.id);
    const since = Date.now();
    const other = Number((await v.call(V.channel, "new_annotation", { body: "Another", at: 1000 })).response.id);
    await v.call(V.channel, "edit_annotation", { id: Number(reply.response.id) === upTo ? parent : parent, body: "Look here, twice" });
    assert.equal((await v.call(V.channel, "delete_annotation", { id: parent })).status, "ok");
    const deleted = await w.next(topic, "annotation_deleted");
    assert.deepEqual(deleted.ids, [parent, upTo], "a deletion takes its replies");
    assert.equal((await v.call(V.channel, "edit_annotation", { id: parent, body: "zombie" })).response.reason, "not_found");
    const rejoin = connect(app, wes.token);
    const missed = (await rejoin.join(topic, { last_seen_id: upTo, since })).reply.response as Record<string, unknown>;
    assert.deepEqual((missed.annotations as Array<{ id: number }>).map((x) => x.id), [other]);
    assert.deepEqual(missed.deleted, [parent, upTo]);
    assert.deepEqual(missed.changed, [], "a deleted annotation is not also changed");
    const all = (await connect(app, wes.token).join(topic)).reply.response.annotations as Array<{ id: number }>;
    assert.deepEqual(all.map((x) => x.id), [other], "deleted annotations are gone for everyone");

    // positions: a burst of 30 moves changes vic's presence at most once per interval, ending at the last one
    const diffsOf = (): number => w.events.filter((e) => e.event === "presence_diff"
      && Object.keys((e.payload.joins ?? {}) as object).includes(String(vic.user.id))).length;
    const before = diffsOf();
    const started = Date.now();
    for (let i = 1; i <= 30; i++) void v.call(V.channel, "position", { at: i * 100, playing: i < 30 });
    await until(() => meta(W, vic.user.id)?.at === 3000 || undefined, 5000, "vic's last position in wes's presence");
    assert.equal(meta(W, vic.user.id)?.playing, false);
    const elapsed = Date.now() - started;
    const moves = diffsOf() - before;
    assert.ok(moves >= 1 && moves <= 2 + Math.floor(elapsed / 200), `${moves} presence moves in ${elapsed} ms with a 200 ms interval`);
    assert.equal((await v.call(V.channel, "position", { at: -5, playing: true })).response.reason, "invalid_payload");
  });
}
