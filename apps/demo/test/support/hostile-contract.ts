/**
 * The apps tried with hostile input, for one database engine: ids that are not ids, broken
 * cookies, text a database cannot store, look-alike usernames, sign-in floods and signed-out
 * tokens. Each answer is a clear 4xx (or an error reply on a channel), never a 500 or a lost write.
 */
import { test, after, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { missing, postgresReachable, TestApp, type Client, type Engine } from "./app.js";

/** Registers the hostile-input tests for `engine`. */
export function hostileContract(engine: Engine): void {
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
  const connect = (app: TestApp, token: string): Client => {
    const client = app.client(token);
    clients.push(client);
    return client;
  };

  test(`${engine}: ids that are not ids answer 404, on the API, the page and the channel`, async (t) => {
    const app = await setup(t);
    if (app === undefined) return;
    const { token } = await app.signUp("ids_user");
    for (const bad of ["NaN", "1.5", "1e400", "99999999999999999999", "%00", "-1", "0", "0x10", "9007199254740993"]) {
      const answer = await app.api("GET", `/api/videos/${bad}`, undefined, token);
      assert.equal(answer.status, 404, `/api/videos/${bad} → ${answer.status}`);
      assert.equal(typeof answer.body.error, "string");
      const page = await fetch(`${app.base}/videos/${bad}`, { headers: { authorization: `Bearer ${token}` } });
      assert.ok(page.status < 500, `/videos/${bad} → ${page.status}`);
    }
    const client = connect(app, token);
    for (const bad of ["NaN", "1e400", "99999999999999999999"]) {
      const { reply } = await client.join(`videos:${bad}`);
      assert.deepEqual(reply, { status: "error", response: { reason: "not_found" } }, `videos:${bad}`);
    }
    assert.equal((await app.api("GET", "/api/videos/1", undefined, token)).status, 200, "a real id still works");
  });

  test(`${engine}: a session cookie with broken percent-encoding counts as no cookie`, async (t) => {
    const app = await setup(t);
    if (app === undefined) return;
    const headers = { cookie: "cinder_token=%E0%A4%A" };
    for (const path of ["/", "/admin", "/retro/lobby"]) {
      const page = await fetch(`${app.base}${path}`, { headers });
      assert.equal(page.status, 200, path);
      assert.match(await page.text(), /Sign in/, `${path} asks to sign in`);
    }
    const me = await fetch(`${app.base}/api/me`, { headers });
    assert.equal(me.status, 401);
    assert.equal(typeof ((await me.json()) as { error?: unknown }).error, "string");
  });

  test(`${engine}: NUL and lone surrogates in messages, annotations and cards are refused with a clear error, and the channel keeps working`, async (t) => {
    const app = await setup(t);
    if (app === undefined) return;
    const { token } = await app.signUp("text_user");
    const client = connect(app, token);
    const room = await client.join("room:hostile-text", {}, ["message:new"]);
    const video = await client.join("videos:1");
    assert.equal(room.reply.status, "ok");
    assert.equal(video.reply.status, "ok");
    for (const bad of ["a\u0000b", "\u0000", "lone \ud800 high", "lone \udc00 low"]) {
      for (const [channel, event, payload] of [
        [room.channel, "message:new", { body: bad }],
        [video.channel, "new_annotation", { body: bad, at: 1000 }],
      ] as const) {
        const answer = await client.call(channel, event, payload);
        assert.equal(answer.status, "error", `${event} ${JSON.stringify(bad)}`);
        assert.equal(answer.response.reason, "invalid_payload");
        const messages = (answer.response.errors as Array<{ message: string }>).map((e) => e.message).join(" ");
        assert.match(messages, /NUL|surrogate/, `${event}: ${messages}`);
      }
      const card = await app.api("POST", "/api/parties/hostile-text/cards", { title: bad }, token);
      assert.equal(card.status, 400, `card title ${JSON.stringify(bad)}`);
      assert.match(String(card.body.error), /NUL|surrogate/);
    }
    const fine = "still fine \u{1F600}";
    assert.equal((await client.call(room.channel, "message:new", { body: fine })).status, "ok", "the room channel still answers");
    await client.next("room:hostile-text", "message:new", (p) => p.body === fine);
    assert.equal((await client.call(video.channel, "new_annotation", { body: fine, at: 1000 })).status, "ok", "the video channel still answers");
    const history = (await connect(app, token).join("room:hostile-text")).reply.response.messages as Array<{ body: string }>;
    assert.deepEqual(history.map((m) => m.body), [fine], "only the storable message was stored, unaltered");
  });
}
