/**
 * Accounts and sessions, for one database engine: sign-out and an admin's disconnect revoke
 * sessions server-side (the API and the socket refuse their tokens, open sockets are closed and
 * not let back in), the page's socket token opens the socket but not the API, and a deleted
 * user's tokens are refused cleanly.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { WebSocket } from "ws";
import { randomBytes } from "node:crypto";
import { hashing } from "../../src/accounts.js";
import { openPostgres, openSqlite } from "../../src/db/db.js";
import { migrate, migrations } from "../../src/db/migrations.js";
import { Store } from "../../src/db/store.js";
import { DATABASE_URL, missing, postgresReachable, sharedTestApp, TEST_ADMIN_PASSWORD, TestApp, until, type Engine } from "./app.js";

/** Registers the accounts tests for `engine`. */
export function accountsContract(engine: Engine): void {
  const { setup, client: connect } = sharedTestApp(engine);
  /** The HTTP status of a WebSocket upgrade with `token` (101 when accepted). */
  const upgrade = (app: TestApp, token: string): Promise<number> => new Promise((resolve) => {
    const ws = new WebSocket(`${app.base.replace("http", "ws")}/socket/websocket?vsn=2.0.0&token=${encodeURIComponent(token)}`);
    ws.on("open", () => { ws.close(); resolve(101); });
    ws.on("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
    ws.on("error", () => undefined);
  });
  const signIn = async (app: TestApp, username: string): Promise<string> => {
    const answer = await app.api("POST", "/api/session", { username, password: "correct horse" });
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    return String(answer.body.token);
  };

  test(`${engine}: sign-out revokes the session — API and socket refuse its token, its sockets are closed, other sessions live on`, async (t) => {
    const app = await setup(t);
    if (app === undefined) return;
    const first = await app.signUp("out_olga");
    const second = await signIn(app, "out_olga");
    const tab = connect(app, first.token);
    await tab.join("notifications:all");
    assert.equal((await app.api("GET", "/api/me", undefined, first.token)).status, 200);

    assert.equal((await app.api("DELETE", "/api/session", undefined, first.token)).status, 200);
    const me = await app.api("GET", "/api/me", undefined, first.token);
    assert.equal(me.status, 401);
    assert.match(String(me.body.error), /signed out/i);
    assert.equal(await upgrade(app, first.token), 403, "the socket refuses a signed-out token");
    await until(() => tab.closeCodes.length > 0 || undefined, 5000, "the signed-out tab's socket closed");
    assert.equal(tab.socket.isConnected(), false);

    assert.equal((await app.api("GET", "/api/me", undefined, second)).status, 200, "another session is still signed in");
    assert.equal(await upgrade(app, second), 101);
  });

  test(`${engine}: sockets are per session — a sign-out leaves the user's other session's socket open; an admin's disconnect closes all`, async (t) => {
    const app = await setup(t);
    if (app === undefined) return;
    const admin = await app.adminToken();
    const laptop = await app.signUp("two_tess");
    const phone = await signIn(app, "two_tess");
    const laptopTab = connect(app, laptop.token);
    const phoneTab = connect(app, phone);
    await laptopTab.join("notifications:all");
    await phoneTab.join("notifications:all");
    assert.equal((await app.api("DELETE", "/api/session", undefined, laptop.token)).status, 200);
    await until(() => laptopTab.closeCodes.length > 0 || undefined, 5000, "the laptop's socket closed");
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.deepEqual(phoneTab.closeCodes, [], "the phone's socket was never closed (no reconnect blip)");
    assert.equal(phoneTab.socket.isConnected(), true);

    const third = await signIn(app, "two_tess");
    const thirdTab = connect(app, third);
    await thirdTab.join("notifications:all");
    assert.equal((await app.api("POST", "/api/admin/disconnect", { username: "two_tess" }, admin)).body.sessions, 2);
    await until(() => (phoneTab.closeCodes.length > 0 && thirdTab.closeCodes.length > 0) || undefined, 5000, "both open sessions' sockets closed");
    await until(() => (phoneTab.closeCodes.length > 2 && thirdTab.closeCodes.length > 2) || undefined, 5000, "their reconnects refused");
  });

  test(`${engine}: an admin's disconnect revokes every session of the user, with a reason`, async (t) => {
    const app = await setup(t);
    if (app === undefined) return;
    const admin = await app.adminToken();
    const target = await app.signUp("kick_kim");
    const other = await signIn(app, "kick_kim");
    const tab = connect(app, target.token);
    await tab.join("notifications:all");
    const answer = await app.api("POST", "/api/admin/disconnect", { username: "kick_kim" }, admin);
    assert.equal(answer.status, 200);
    assert.equal(answer.body.sessions, 2);
    for (const token of [target.token, other]) {
      const me = await app.api("GET", "/api/me", undefined, token);
      assert.equal(me.status, 401);
      assert.equal(me.body.error, "You were signed out by an administrator");
      assert.equal(await upgrade(app, token), 403, "reconnects with the old token are refused");
    }
    await until(() => tab.closeCodes.length > 0 || undefined, 5000, "kim's socket closed");
    // phoenix.js retries; every retry is refused, so it never gets back in.
    await until(() => tab.closeCodes.length > 2 || undefined, 5000, "kim's retries refused");
    assert.equal(tab.socket.isConnected(), false);
    const again = await signIn(app, "kick_kim");
    assert.equal((await app.api("GET", "/api/me", undefined, again)).status, 200, "signing in again works");
  });

  test(`${engine}: a page's socket token opens the socket but not the API; the cookie is HttpOnly`, async (t) => {
    const app = await setup(t);
    if (app === undefined) return;
    const { token } = await app.signUp("page_pia");
    const page = await fetch(`${app.base}/`, { headers: { cookie: `cinder_token=${encodeURIComponent(token)}` } });
    const html = await page.text();
    const socketToken = JSON.parse(/window\.userToken = ("[^"]+");/.exec(html)![1]!) as string;
    assert.notEqual(socketToken, token, "the page never sees the session token");
    assert.equal(await upgrade(app, socketToken), 101);
    assert.equal((await app.api("GET", "/api/me", undefined, socketToken)).status, 401, "the socket token is no API credential");
    const signUp = await fetch(`${app.base}/api/users`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username: "page_pat", password: "correct horse" }) });
    assert.match(signUp.headers.get("set-cookie") ?? "", /HttpOnly/);
    assert.equal((await app.api("DELETE", "/api/session", undefined, token)).status, 200);
    assert.equal(await upgrade(app, socketToken), 403, "it dies with its session");
  });

  test(`${engine}: a deleted user's open socket is refused cleanly — an error reply, the socket closed, the room keeps working`, async (t) => {
    const app = await setup(t);
    if (app === undefined) return;
    const gus = await app.signUp("gone_gus");
    const ann = await app.signUp("still_ann");
    const video = (await app.app.store.videos())[0]!.id;
    const gusTab = connect(app, gus.token);
    const annTab = connect(app, ann.token);
    const room = "room:deleted-user";
    const gusRoom = await gusTab.join(room);
    const gusVideo = await gusTab.join(`videos:${video}`);
    const annRoom = await annTab.join(room, {}, ["message:new"]);
    assert.equal((await gusTab.call(gusRoom.channel, "message:new", { body: "before" })).status, "ok");

    // The account is deleted behind the app's back (an operator, another node): gus's socket stays open.
    await app.app.store.db.query("DELETE FROM messages WHERE user_id = ?", [gus.user.id]);
    await app.app.store.db.query("UPDATE rooms SET facilitator_id = NULL WHERE facilitator_id = ?", [gus.user.id]);
    await app.app.store.db.query("DELETE FROM users WHERE id = ?", [gus.user.id]);
    const pushed = await gusTab.call(gusRoom.channel, "message:new", { body: "after" });
    assert.deepEqual(pushed, { status: "error", response: { reason: "signed_out", message: "Your session has ended; sign in again" } },
      "a clear error reply, not a crash (no reply) and not a lost write");
    await until(() => gusTab.closeCodes.length > 0 || undefined, 5000, "gus's socket closed");
    await until(() => gusTab.closeCodes.length > 2 || undefined, 5000, "gus's reconnects refused");
    assert.equal(gusTab.socket.isConnected(), false);
    assert.equal(gusVideo.channel.state === "joined", false, "his other channels ended with the socket");
    assert.equal((await app.api("GET", "/api/me", undefined, gus.token)).status, 401);
    assert.equal(await upgrade(app, gus.token), 403);

    // the room goes on for everyone else
    const annSays = await annTab.call(annRoom.channel, "message:new", { body: "still here" });
    assert.equal(annSays.status, "ok");
    await annTab.next(room, "message:new", (m) => m.body === "still here");
    assert.equal(annTab.events.some((e) => e.payload.body === "after"), false, "nothing half-written went out");
  });

  test(`${engine}: a deleted user's video annotation and join are refused the same way`, async (t) => {
    const app = await setup(t);
    if (app === undefined) return;
    const gil = await app.signUp("gone_gil");
    const video = (await app.app.store.videos())[0]!.id;
    const tab = connect(app, gil.token);
    const joined = await tab.join(`videos:${video}`);
    await app.app.store.db.query("DELETE FROM users WHERE id = ?", [gil.user.id]);
    const annotated = await tab.call(joined.channel, "new_annotation", { body: "ghost", at: 1000 });
    assert.deepEqual(annotated.response, { reason: "signed_out", message: "Your session has ended; sign in again" });
    await until(() => tab.closeCodes.length > 0 || undefined, 5000, "gil's socket closed");
    assert.equal((await app.app.store.annotations(video)).some((a) => a.body === "ghost"), false);
  });

  test(`${engine}: sign-in is throttled per account before hashing, with a clear error; hashing runs on a small pool`, async (t) => {
    const app = await setup(t);
    if (app === undefined) return;
    await app.signUp("slow_sam");
    await app.signUp("slow_sue");
    const answers = await Promise.all(Array.from({ length: 14 }, () => app.api("POST", "/api/session", { username: "slow_sam", password: "wrong password" })));
    const statuses = answers.map((a) => a.status).sort();
    assert.deepEqual(statuses, [...Array(10).fill(401), ...Array(4).fill(429)], "10 attempts per account, then refused");
    const refused = answers.find((a) => a.status === 429)!;
    assert.match(String(refused.body.error), /too many sign-in attempts for this account; try again in \d+ s/);
    const right = await app.api("POST", "/api/session", { username: "SLOW_SAM", password: "correct horse" });
    assert.equal(right.status, 429, "even the right password waits for the window (any spelling of the name)");
    assert.equal((await app.api("POST", "/api/session", { username: "slow_sue", password: "correct horse" })).status, 200, "other accounts are not locked");
    assert.ok(hashing.peak >= 1 && hashing.peak <= hashing.concurrency, `at most ${hashing.concurrency} hashes at once (peak ${hashing.peak})`);
  });

  test(`${engine}: sign-in is throttled per address`, async (t) => {
    if (engine === "postgres" && !(await postgresReachable())) return missing(t, "PostgreSQL");
    const app = new TestApp(engine);
    app.config.signInPerAddress = 3;
    await app.start();
    try {
      const answers = [];
      for (const name of ["a_1", "a_2", "a_3", "a_4"]) answers.push(await app.api("POST", "/api/session", { username: name, password: "wrong password" }));
      assert.deepEqual(answers.map((a) => a.status), [401, 401, 401, 429]);
      assert.match(String(answers[3]!.body.error), /from your address/);
    } finally {
      await app.destroy();
    }
  });

  test(`${engine}: admin bootstrap — ADMIN_PASSWORD creates admin, a restart keeps it, nobody signs up as a reserved name`, async (t) => {
    const app = await setup(t);
    if (app === undefined) return;
    const me = await app.api("GET", "/api/me", undefined, await app.adminToken());
    assert.deepEqual({ username: (me.body.user as { username: string }).username, admin: me.body.admin }, { username: "admin", admin: true });
    for (const name of ["admin", "Admin", "ADMIN"]) {
      const answer = await app.api("POST", "/api/users", { username: name, password: "password123" });
      assert.equal(answer.status, 403, `${name} → ${answer.status}`);
      assert.match(String(answer.body.error), /reserved/);
    }
    await app.stop();
    app.config.adminPassword = "another password entirely";
    await app.start();
    assert.equal((await app.api("POST", "/api/session", { username: "admin", password: TEST_ADMIN_PASSWORD })).status, 200, "an existing admin is kept as it is");
    const bare = new TestApp(engine);
    bare.config.adminPassword = undefined;
    await bare.start();
    try {
      assert.equal((await bare.api("POST", "/api/session", { username: "admin", password: TEST_ADMIN_PASSWORD })).status, 401, "without ADMIN_PASSWORD there is no admin");
      assert.equal((await bare.api("POST", "/api/users", { username: "admin", password: "password123" })).status, 403);
    } finally {
      await bare.destroy();
    }
  });

  test(`${engine}: usernames are unique case-insensitively after NFKC; sign-in takes any spelling`, async (t) => {
    const app = await setup(t);
    if (app === undefined) return;
    await app.signUp("Case_Cat");
    for (const twin of ["case_cat", "CASE_CAT", "\uff23\uff41\uff53\uff45\uff3f\uff23\uff41\uff54"]) {
      const answer = await app.api("POST", "/api/users", { username: twin, password: "password123" });
      assert.equal(answer.status, 409, `${twin} → ${answer.status}`);
    }
    const signedIn = await app.api("POST", "/api/session", { username: "cASE_cAT", password: "correct horse" });
    assert.equal(signedIn.status, 200);
    assert.equal((signedIn.body.user as { username: string }).username, "Case_Cat", "the name is kept as signed up");
  });

  test(`${engine}: the username migration keeps the oldest of existing case-twins and renames the others`, async (t) => {
    if (engine === "postgres" && !(await postgresReachable())) return missing(t, "PostgreSQL");
    const schema = `cinder_mig_${randomBytes(4).toString("hex")}`;
    const db = engine === "sqlite" ? openSqlite(":memory:") : await openPostgres(DATABASE_URL, schema);
    try {
      await migrate(db, migrations.filter((m) => m.version < 23));
      for (const name of ["Dup", "dup", "other", "DUP"]) {
        await db.query("INSERT INTO users (username, password_hash, inserted_at) VALUES (?, 'x', 0)", [name]);
      }
      assert.deepEqual(await migrate(db, migrations.filter((m) => m.version <= 23)), [23]);
      const rows = await db.query<{ id: number; username: string }>("SELECT id, username FROM users ORDER BY id");
      const ids = rows.map((r) => Number(r.id));
      assert.deepEqual(rows.map((r) => r.username), ["Dup", `dup-${ids[1]}`, "other", `DUP-${ids[3]}`]);
      const store = new Store(db);
      assert.equal((await store.userByName("DUP"))?.username, "Dup");
      assert.equal(await store.createUser("dUp", "x"), null, "new twins are refused");
    } finally {
      if (engine === "postgres") await db.query(`DROP SCHEMA ${schema} CASCADE`);
      await db.close();
    }
  });
}
