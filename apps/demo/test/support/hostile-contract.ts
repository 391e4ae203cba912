/**
 * The apps tried with hostile input, for one database engine: ids that are not integers or out
 * of range, NUL characters and lone surrogates in every text field (API and channels), and a
 * session cookie with broken percent-encoding. Each answers a clear 4xx or an error reply —
 * never a 500, a crashed channel or a silently lost write.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { sharedTestApp, type Engine } from "./app.js";

/** Registers the hostile-input tests for `engine`. */
export function hostileContract(engine: Engine): void {
  const { setup, client: connect } = sharedTestApp(engine);

  test(`${engine}: ids that are not integers or out of range answer 404, never 500`, async (t) => {
    const app = await setup(t);
    if (app === undefined) return;
    const { token } = await app.signUp("ids_ivy");
    for (const id of ["NaN", "1.5", "1e400", "99999999999999999999", "%00", "-1", "0", "0x10", "%20"]) {
      const answer = await app.api("GET", `/api/videos/${id}`, undefined, token);
      assert.ok(answer.status === 400 || answer.status === 404, `/api/videos/${id} → ${answer.status}`);
      assert.equal(typeof answer.body.error, "string");
      const page = await fetch(`${app.base}/videos/${id}`, { headers: { cookie: `cinder_token=${encodeURIComponent(token)}` } });
      assert.ok(page.status === 400 || page.status === 404, `/videos/${id} → ${page.status}`);
    }
    const video = await app.api("GET", "/api/videos", undefined, token);
    const first = (video.body.videos as Array<{ id: number }>)[0]!;
    assert.equal((await app.api("GET", `/api/videos/${first.id}`, undefined, token)).status, 200);
  });

  test(`${engine}: a video topic names its id one way only (videos:01, videos:1.0, videos:+1 are not video 1's topic)`, async (t) => {
    const app = await setup(t);
    if (app === undefined) return;
    const { token } = await app.signUp("ids_topic");
    const client = app.client(token);
    try {
      const first = ((await app.api("GET", "/api/videos", undefined, token)).body.videos as Array<{ id: number }>)[0]!;
      // Each spelling would be a topic of its own: its watchers would miss video 1's annotations and presence.
      for (const alias of [`0${first.id}`, `${first.id}.0`, `+${first.id}`, ` ${first.id}`, `${first.id}e0`, "1e400", "NaN", "99999999999999999999"]) {
        const { reply } = await client.join(`videos:${alias}`);
        assert.deepEqual(reply, { status: "error", response: { reason: "not_found" } }, `videos:${alias}`);
      }
      assert.equal((await client.join(`videos:${first.id}`)).reply.status, "ok");
    } finally {
      client.close();
    }
  });

  test(`${engine}: NUL and lone surrogates in API text fields are refused with 400`, async (t) => {
    const app = await setup(t);
    if (app === undefined) return;
    const { token } = await app.signUp("nul_nat");
    for (const bad of ["a\u0000b", "x\ud800y", "\udc00", "end\ud83d"]) {
      const card = await app.api("POST", "/api/parties/hostile/cards", { title: bad, description: "" }, token);
      assert.equal(card.status, 400, JSON.stringify(card.body));
      assert.match(String(card.body.error), /NUL|Unicode/);
      const description = await app.api("POST", "/api/parties/hostile/cards", { title: "ok", description: bad }, token);
      assert.equal(description.status, 400);
      const video = await app.api("POST", "/api/videos", { title: bad, url: "https://a.example/v.mp4" }, token);
      assert.equal(video.status, 400);
    }
    const party = await app.api("GET", "/api/parties/a%00b/cards", undefined, token);
    assert.equal(party.status, 400, "a NUL in a party name");
    const fine = await app.api("POST", "/api/parties/hostile/cards", { title: "emoji 🎉 ok", description: "ünïcode" }, token);
    assert.equal(fine.status, 201);
    assert.equal(fine.body.title, "emoji 🎉 ok");
  });

  test(`${engine}: NUL and lone surrogates in retro messages and annotations get an error reply; the channel lives on`, async (t) => {
    const app = await setup(t);
    if (app === undefined) return;
    const { token } = await app.signUp("nul_rae");
    const client = connect(app, token);
    const { channel, reply } = await client.join("room:hostile", {}, ["message:new"]);
    assert.equal(reply.status, "ok");
    for (const bad of ["a\u0000b", "x\ud800y"]) {
      const answer = await client.call(channel, "message:new", { body: bad });
      assert.equal(answer.status, "error", `message ${JSON.stringify(bad)}`);
      assert.match(JSON.stringify(answer.response), /NUL|Unicode/);
      const idea = await client.call(channel, "idea:add", { column: "went_well", body: bad });
      assert.equal(idea.status, "error");
    }
    const good = await client.call(channel, "message:new", { body: "still here" });
    assert.equal(good.status, "ok", "the channel still answers after refused pushes");
    await client.next("room:hostile", "message:new", (p) => p.body === "still here");
    assert.equal((await client.join("room:a\u0000b")).reply.status, "error");

    const video = await app.api("GET", "/api/videos", undefined, token);
    const videoId = (video.body.videos as Array<{ id: number }>)[0]!.id;
    const watching = await client.join(`videos:${videoId}`, {}, ["new_annotation"]);
    assert.equal(watching.reply.status, "ok");
    for (const bad of ["a\u0000b", "x\udfffy"]) {
      const answer = await client.call(watching.channel, "new_annotation", { body: bad, at: 1000 });
      assert.equal(answer.status, "error", `annotation ${JSON.stringify(bad)}`);
      assert.match(JSON.stringify(answer.response), /NUL|Unicode/);
    }
    const stored = await client.call(watching.channel, "new_annotation", { body: "fine", at: 1000 });
    assert.equal(stored.status, "ok");
  });

  test(`${engine}: a session cookie with broken percent-encoding is no cookie`, async (t) => {
    const app = await setup(t);
    if (app === undefined) return;
    for (const path of ["/", "/videos", "/api/me", "/api/videos"]) {
      const answer = await fetch(`${app.base}${path}`, { headers: { cookie: "cinder_token=%E0%A4%A" } });
      assert.ok(answer.status === 200 || answer.status === 401, `${path} → ${answer.status}`);
    }
  });
}
