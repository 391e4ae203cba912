// docs/protocol.md §10 items 22–26, 35, 36: broadcasts, broadcast_from, intercept/handle_out, endpoint broadcast,
// socket-id disconnect, reconnect behaviour — driven by a client (phoenix.js or @cinder/client,
// see harness/clients.ts `clients`) over every transport (`[websocket]`, `[longpoll]`); raw ws clients take
// part in some of them. Run by broadcast.phoenix.test.ts and broadcast.cinder.test.ts.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { Channel } from "phoenix";
import {
  RawWebSocket, asV2, connected, delay, httpPost, joinOk, nextEvent, outcome, phxSocket, server, serverDropCodes, topic,
  transports, waitUntil, type Client, type Phx, type Via,
} from "./harness/index.js";

async function joinedClients(client: Client, via: Via, t: string, users: string[]): Promise<Array<{ phx: Phx; ch: Channel; got: unknown[] }>> {
  return Promise.all(users.map(async (user) => {
    const phx = phxSocket(server, { client, params: { user }, via });
    await connected(phx);
    const ch = phx.socket.channel(t);
    await joinOk(phx, ch);
    const got: unknown[] = [];
    return { phx, ch, got };
  }));
}

export function broadcastScenarios(client: Client): void {
  for (const via of transports) {
    test(`a broadcast reaches all three clients as [null,null,topic,event,payload] [${via}] [${client.name}] (item 23)`, { timeout: 10_000 }, async () => {
      const t = topic("bcast");
      const clients = await joinedClients(client, via, t, ["a1", "a2", "a3"]);
      for (const c of clients) c.ch.on("broadcasted", (p) => c.got.push(p));
      const sender = clients[0]!;
      // (broadcast does not reply: a short push timeout keeps the test fast)
      const o = outcome(sender.ch.push("broadcast", { msg: "hi all", n: 1 }, 500), 3000, ["ok", "error", "timeout"]).catch(() => null);
      await waitUntil(() => clients.every((c) => c.got.length >= 1), 3000, "all three receive the broadcast",
        () => clients.map((c, i) => `client ${i}: ${c.phx.log.dump(10)}`).join("\n"));
      for (const c of clients) {
        assert.deepEqual(c.got, [{ msg: "hi all", n: 1 }]);
        const wire = c.phx.log.find({ dir: "in", topic: t, event: "broadcasted" });
        assert.deepEqual(wire?.json, [null, null, t, "broadcasted", { msg: "hi all", n: 1 }]);
      }
      await o;
      await delay(200);
      for (const c of clients) assert.equal(c.got.length, 1, "exactly one delivery each");
    });

    test(`broadcastFrom → the sender does not receive it, the other two do [${via}] [${client.name}] (item 24)`, { timeout: 10_000 }, async () => {
      const t = topic("bcast-from");
      const clients = await joinedClients(client, via, t, ["b1", "b2", "b3"]);
      for (const c of clients) c.ch.on("broadcasted", (p) => c.got.push(p));
      const [sender, ...others] = clients;
      sender!.ch.push("broadcast_from", { from: "b1" });
      await waitUntil(() => others.every((c) => c.got.length >= 1), 3000, "the two others receive it",
        () => clients.map((c, i) => `client ${i}: ${c.phx.log.dump(10)}`).join("\n"));
      for (const c of others) {
        assert.deepEqual(c.got, [{ from: "b1" }]);
        assert.deepEqual(c.phx.log.find({ dir: "in", topic: t, event: "broadcasted" })?.json, [null, null, t, "broadcasted", { from: "b1" }]);
      }
      await sender!.phx.log.expectNone({ dir: "in", topic: t, event: "broadcasted" }, "broadcast_from echo to the sender", 400);
      assert.equal(sender!.got.length, 0);
    });

    test(`broadcastFrom excludes only the sending channel: another connection of the same user gets it [${via}] [${client.name}] (item 24)`, { timeout: 10_000 }, async () => {
      const t = topic("bcast-from-same-user");
      const clients = await joinedClients(client, via, t, ["same", "same"]);
      for (const c of clients) c.ch.on("broadcasted", (p) => c.got.push(p));
      clients[0]!.ch.push("broadcast_from", { y: 1 });
      await waitUntil(() => clients[1]!.got.length === 1, 3000, "the second connection receives it");
      await delay(300);
      assert.equal(clients[0]!.got.length, 0);
    });

    test(`an intercepted event: handleOut skips one recipient, pushes to the others with join_ref set [${via}] [${client.name}] (item 25)`, { timeout: 10_000 }, async () => {
      const t = topic("intercept");
      const clients = await joinedClients(client, via, t, ["alice", "bob", "carol"]);
      for (const c of clients) c.ch.on("filtered", (p) => c.got.push(p));
      const [alice, bob, carol] = clients;
      alice!.ch.push("intercepted", { skip_user: "bob", text: "not for bob" });
      await waitUntil(() => alice!.got.length >= 1 && carol!.got.length >= 1, 3000, "alice and carol receive it",
        () => clients.map((c, i) => `client ${i}: ${c.phx.log.dump(10)}`).join("\n"));
      assert.deepEqual(alice!.got, [{ skip_user: "bob", text: "not for bob", seen_by: "alice" }]);
      assert.deepEqual(carol!.got, [{ skip_user: "bob", text: "not for bob", seen_by: "carol" }]);
      for (const [c, user] of [[alice!, "alice"], [carol!, "carol"]] as const) {
        const wire = c.phx.log.find({ dir: "in", topic: t, event: "filtered" });
        assert.deepEqual(wire?.json, [c.ch.joinRef(), null, t, "filtered", { skip_user: "bob", text: "not for bob", seen_by: user }],
          "handle_out push carries the recipient's join_ref and a null ref");
      }
      await bob!.phx.log.expectNone({ dir: "in", topic: t, event: "filtered" }, "filtered event for bob", 400);
      assert.equal(bob!.got.length, 0);
      // the un-intercepted broadcast path still reaches bob
      const got = nextEvent(bob!.phx, bob!.ch, "broadcasted");
      alice!.ch.push("broadcast", { still: "bob" });
      assert.deepEqual(await got, { still: "bob" });
    });

    test(`POST /broadcast → 204, every joined client receives [null,null,topic,event,payload] [${via}] [${client.name}] (item 26)`, { timeout: 10_000 }, async () => {
      const t = topic("endpoint");
      const clients = await joinedClients(client, via, t, ["e1", "e2"]);
      for (const c of clients) c.ch.on("from_http", (p) => c.got.push(p));
      const raw = await RawWebSocket.connect(server);
      const rawJr = await raw.joinOk(t, {}, "r1");
      assert.equal(rawJr, "r1");
      const other = await RawWebSocket.connect(server);
      const otherTopic = topic("endpoint-other");
      await other.joinOk(otherTopic);
      const res = await httpPost(server, "/broadcast", { topic: t, event: "from_http", payload: { via: "http", n: [1, 2] } });
      assert.equal(res.status, 204, `POST /broadcast status (body: ${res.body})`);
      await waitUntil(() => clients.every((c) => c.got.length >= 1), 3000, "both phoenix clients receive it",
        () => clients.map((c, i) => `client ${i}: ${c.phx.log.dump(10)}`).join("\n"));
      for (const c of clients) assert.deepEqual(c.got, [{ via: "http", n: [1, 2] }]);
      const rawMsg = await raw.log.wait({ dir: "in", topic: t, event: "from_http" }, "raw client receives the endpoint broadcast");
      assert.deepEqual(rawMsg.json, [null, null, t, "from_http", { via: "http", n: [1, 2] }]);
      await other.log.expectNone({ dir: "in", event: "from_http" }, "endpoint broadcast on an unrelated topic", 300);
    });


    test(`"disconnect" on the socket id closes every connection of that id (websocket 1001, long-poll session gone → 3410); the client reconnects [${via}] [${client.name}] (item 35)`, { timeout: 10_000 }, async () => {
      const user = `dave${process.pid}${Date.now()}`;
      const t = topic("disconnect");
      // a client and a raw client with socket id user_socket:<user>, one bystander
      const phx = phxSocket(server, { client, params: { user }, via });
      await connected(phx);
      const ch = phx.socket.channel(t);
      await joinOk(phx, ch);
      const raw = await RawWebSocket.connect(server, { params: { user } });
      const rawJr = await raw.joinOk(t);
      const bystander = await RawWebSocket.connect(server, { params: { user: `${user}-other` } });
      const byJr = await bystander.joinOk(t);

      raw.push(rawJr, t, "disconnect_me", {});
      const rawClose = await raw.waitClose(3000);
      assert.equal(rawClose.code, 1001, "raw websocket closed with 1001");
      const phxClose = await phx.log.wait((e) => e.what === "close" && e.conn === 0, `${client.label} transport close`);
      if (via === "websocket") assert.equal(phxClose.code, 1001, `${client.label} websocket closed with 1001`);
      else {
        // the session ended: the parked (or next) GET is answered 410 while the client holds a token
        assert.deepEqual([phxClose.code, phxClose.reason], [3410, "session_gone"], `${client.label} LongPoll: session gone\n${phx.log.dump()}`);
        const gone = phx.log.find((e) => e.what === "response" && e.conn === 0 && e.method === "GET" && (e.response as { status?: number } | null)?.status === 410, 0);
        assert.ok(gone, "a GET answered {status: 410}");
      }
      // the bystander (different socket id) is unaffected
      assert.equal(bystander.isOpen, true);
      assert.deepEqual((await bystander.call(byJr, t, "ping", { still: "here" }))[4], { status: "ok", response: { still: "here" } });
      // the client reconnects (new websocket) and its channel rejoins
      await phx.log.wait((e) => e.what === "open" && e.conn === 1, `${client.label} reconnected`, 3000);
      await waitUntil(() => ch.state === "joined", 3000, "channel rejoined", () => phx.log.dump());
      const rejoin = phx.log.find({ dir: "out", conn: 1, topic: t, event: "phx_join" });
      assert.ok(rejoin, "phx_join sent on the new connection");
      // the old channels terminated: one broadcast reaches the rejoined channel exactly once
      const from = phx.log.nextSeq;
      bystander.push(byJr, t, "broadcast", { after: "disconnect" });
      await phx.log.wait({ dir: "in", topic: t, event: "broadcasted" }, "broadcast after reconnect", 3000, from);
      await delay(300);
      assert.equal(phx.log.all({ dir: "in", topic: t, event: "broadcasted" }, from).length, 1);
    });

    test(`after a server close, the client reconnects after reconnectAfterMs(1) and errored channels rejoin on open [${via}] [${client.name}] (item 36)`, { timeout: 10_000 }, async (tc) => {
      // the same explicit backoff for both clients (their defaults differ by design, see below):
      // 100 ms is neither phoenix.js's default (10 ms) nor in @cinder/client's (150–450 ms)
      const FIRST_MS = 100;
      const tries: number[] = [];
      const user = `rc${process.pid}${Date.now()}`;
      const phx = phxSocket(server, { client, params: { user }, via,
        reconnectAfterMs: (n) => { tries.push(n); return n === 1 ? FIRST_MS : 1000; } });
      await connected(phx);
      const t1 = topic("reconnect-1"), t2 = topic("reconnect-2");
      const ch1 = phx.socket.channel(t1), ch2 = phx.socket.channel(t2);
      await joinOk(phx, ch1);
      await joinOk(phx, ch2);
      let errors = 0;
      ch1.onError(() => { errors += 1; });
      ch1.push("disconnect_me", {});
      const close = await phx.log.wait((e) => e.what === "close" && e.conn === 0, "server close");
      assert.ok(serverDropCodes(via).includes(close.code!), `close code ${close.code} (expected one of ${serverDropCodes(via)})\n${phx.log.dump()}`);
      const construct = await phx.log.wait((e) => e.what === "construct" && e.conn === 1, "reconnect attempt", 2000);
      const backoff = construct.at - close.at;
      tc.diagnostic(`first reconnect attempt ${backoff} ms after close (reconnectAfterMs(1) = ${FIRST_MS} ms)`);
      assert.equal(tries[0], 1, `reconnectAfterMs consulted with tries = 1 first (calls: ${JSON.stringify(tries)})`);
      assert.ok(backoff >= FIRST_MS - 5 && backoff < FIRST_MS + 190,
        `first reconnect attempt ${backoff} ms after close (reconnectAfterMs(1) = ${FIRST_MS} ms)\n${phx.log.dump()}`);
      await waitUntil(() => errors >= 1, 1000, "channel errored on close");
      const open = await phx.log.wait((e) => e.what === "open" && e.conn === 1, "reopen", 3000);
      const j1 = await phx.log.wait({ dir: "out", conn: 1, topic: t1, event: "phx_join" }, "ch1 rejoin", 2000);
      const j2 = await phx.log.wait({ dir: "out", conn: 1, topic: t2, event: "phx_join" }, "ch2 rejoin", 2000);
      assert.ok(j1.at - open.at < 200 && j2.at - open.at < 200,
        `errored channels rejoin immediately on open (${j1.at - open.at} / ${j2.at - open.at} ms)`);
      await waitUntil(() => ch1.state === "joined" && ch2.state === "joined", 3000, "both channels joined again", () => phx.log.dump());
      assert.deepEqual(await outcome(ch2.push("ping", { back: true })), { status: "ok", response: { back: true } });
      assert.notEqual(asV2(j1)![0], null);
      assert.deepEqual(tries, [1], "one attempt was enough");
    });

    // The clients' default first reconnect delays differ by design: phoenix.js retries after a
    // fixed 10 ms; @cinder/client after 300 ms ± 50 % at random (150–450 ms, its README and
    // backoff.ts), so that a server restart does not bring every client back at once.
    const defaultBackoff = client.name === "phoenix"
      ? { what: "phoenix.js's default first reconnect comes after ~10 ms", drops: 1 }
      : { what: "@cinder/client's default first reconnect is jittered within 150–450 ms", drops: 4 };
    test(`default backoff: ${defaultBackoff.what} [${via}] [${client.name}] (item 36)`, { timeout: 15_000 }, async (tc) => {
      const user = `rcd${process.pid}${Date.now()}`;
      const phx = phxSocket(server, { client, params: { user }, via });
      await connected(phx);
      const ch = phx.socket.channel(topic("reconnect-default"));
      await joinOk(phx, ch);
      const backoffs: number[] = [];
      for (let i = 0; i < defaultBackoff.drops; i++) {
        ch.push("disconnect_me", {});
        const close = await phx.log.wait((e) => e.what === "close" && e.conn === i, `server close #${i + 1}`);
        assert.ok(serverDropCodes(via).includes(close.code!), `close code ${close.code} (expected one of ${serverDropCodes(via)})\n${phx.log.dump()}`);
        const construct = await phx.log.wait((e) => e.what === "construct" && e.conn === i + 1, `reconnect attempt #${i + 1}`, 2000);
        backoffs.push(construct.at - close.at);
        // reconnected and rejoined: the next drop's retry is a first retry again
        await phx.log.wait((e) => e.what === "open" && e.conn === i + 1, `reopen #${i + 1}`, 3000);
        await waitUntil(() => ch.state === "joined", 3000, `rejoined after drop #${i + 1}`, () => phx.log.dump());
      }
      tc.diagnostic(`first reconnect attempt${backoffs.length > 1 ? "s" : ""} ${backoffs.join(", ")} ms after close`);
      if (client.name === "phoenix") {
        assert.ok(backoffs[0]! < 200, `first reconnect attempt ${backoffs[0]} ms after close (expected ~10 ms)`);
      } else {
        // each within the documented 150–450 ms (+ up to 100 ms of timer and event-loop lag) …
        for (const b of backoffs) assert.ok(b >= 145 && b <= 550, `first reconnect attempt ${b} ms after close (documented: 150–450 ms)`);
        // … and jittered: four draws from 150–450 ms all within 10 ms of each other would be
        // a 1-in-7000 event, a fixed delay plus timer noise almost always is
        const spread = Math.max(...backoffs) - Math.min(...backoffs);
        assert.ok(spread >= 10, `first reconnect delays ${backoffs.join(", ")} ms: not jittered (spread ${spread} ms)`);
      }
    });

    test(`socket params given as a function are re-evaluated on reconnect after a server-side disconnect [${via}] [${client.name}] (item 22)`, { timeout: 10_000 }, async () => {
      const base = `p${process.pid}${Date.now()}`;
      let n = 0;
      const phx = phxSocket(server, { client, via, params: () => { n += 1; return { user: `${base}-${n}` }; } });
      await connected(phx);
      const firstUrl = new URL(phx.log.find((e) => e.what === "construct" && e.conn === 0)!.url!);
      const firstUser = firstUrl.searchParams.get("user");
      assert.ok(firstUser?.startsWith(`${base}-`));
      const t = topic("params-fn");
      const ch = phx.socket.channel(t);
      await joinOk(phx, ch);
      const seen1 = nextEvent(phx, ch, "filtered");
      ch.push("intercepted", {});
      assert.deepEqual(await seen1, { seen_by: firstUser });

      ch.push("disconnect_me", {});
      const close = await phx.log.wait((e) => e.what === "close" && e.conn === 0, "server disconnect");
      assert.ok(serverDropCodes(via).includes(close.code!), `close code ${close.code} (expected one of ${serverDropCodes(via)})`);
      await phx.log.wait((e) => e.what === "open" && e.conn === 1, "reconnected", 3000);
      const secondUrl = new URL(phx.log.find((e) => e.what === "construct" && e.conn === 1)!.url!);
      const secondUser = secondUrl.searchParams.get("user");
      assert.notEqual(secondUser, firstUser, "reconnect URL carries re-evaluated params");
      assert.equal(secondUrl.searchParams.get("vsn"), "2.0.0");
      await waitUntil(() => ch.state === "joined", 3000, "rejoined", () => phx.log.dump());
      // the new connection's connect callback saw the new params
      const seen2 = nextEvent(phx, ch, "filtered");
      ch.push("intercepted", {});
      assert.deepEqual(await seen2, { seen_by: secondUser });
    });
  }
}
