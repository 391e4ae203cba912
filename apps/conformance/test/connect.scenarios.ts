// docs/protocol.md §10 items 1, 2, 7 (partial), 8, driven by a client (phoenix.js or @cinder/client, see
// harness/clients.ts `clients`) over every transport (`[websocket]`, `[longpoll]`). Run by
// connect.phoenix.test.ts and connect.cinder.test.ts; the raw handshake checks are in connect.test.ts.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  asV2, connected, delay, handshake, joinOk, nextEvent, phxSocket, server, topic, transports, waitUntil, type Client,
} from "./harness/index.js";

export function connectScenarios(client: Client): void {
  for (const via of transports) {
    test(`the client connects to /socket/${via}?vsn=2.0.0 and connect params reach connect [${via}] [${client.name}] (item 1)`, { timeout: 10_000 }, async () => {
      const phx = phxSocket(server, { client, via, params: { user: "alice" } });
      await connected(phx);
      assert.equal(phx.socket.isConnected(), true);
      const construct = phx.log.find((e) => e.what === "construct");
      assert.ok(construct?.url, "transport constructed with a URL");
      const url = new URL(construct.url);
      assert.equal(url.pathname, `/socket/${via}`);
      assert.equal(url.protocol, via === "websocket" ? "ws:" : "http:");
      assert.equal(url.searchParams.get("vsn"), "2.0.0");
      assert.equal(url.searchParams.get("user"), "alice");
      // the `user` connect param becomes the `user` assign, reported back by handle_out as seen_by
      const t = topic("connect-params");
      const ch = phx.socket.channel(t);
      await joinOk(phx, ch);
      const filtered = nextEvent(phx, ch, "filtered");
      ch.push("intercepted", { probe: 1 });
      assert.deepEqual(await filtered, { probe: 1, seen_by: "alice" });
    });

    test(`without a user param the connect callback assigns the default user "anon" [${via}] [${client.name}] (item 1)`, { timeout: 10_000 }, async () => {
      const phx = phxSocket(server, { client, via });
      await connected(phx);
      const t = topic("anon");
      const ch = phx.socket.channel(t);
      await joinOk(phx, ch);
      const filtered = nextEvent(phx, ch, "filtered");
      ch.push("intercepted", {});
      assert.deepEqual(await filtered, { seen_by: "anon" });
    });

    test(`the client against a refusing connect: onError fires and it keeps retrying per reconnectAfterMs [${via}] [${client.name}] (item 2)`, { timeout: 10_000 }, async (tc) => {
      const tries: number[] = [];
      let errors = 0;
      const phx = phxSocket(server, { client, via,
        params: { token: "bad" },
        connect: false,
        reconnectAfterMs: (n) => { tries.push(n); return [10, 50, 100, 150, 200, 250, 500, 1000, 2000][n - 1] ?? 5000; },
      });
      phx.socket.onError(() => { errors += 1; });
      phx.socket.connect();
      await waitUntil(() => errors >= 4, 3000, "four connection errors (initial attempt + 3 retries)",
        () => `errors=${errors} tries=${JSON.stringify(tries)}\n${phx.log.dump()}`);
      assert.equal(phx.socket.isConnected(), false);
      assert.deepEqual(tries.slice(0, 3), [1, 2, 3], "reconnectAfterMs consulted with increasing tries");
      const constructs = phx.log.all((e) => e.what === "construct");
      assert.ok(constructs.length >= 4, `at least 4 connection attempts, got ${constructs.length}`);
      const refusals = phx.log.all((e) => e.what === "error" && /\b403\b/.test(e.reason ?? ""));
      assert.ok(refusals.length >= 3, `handshakes refused with HTTP 403 (saw ${refusals.length})\n${phx.log.dump()}`);
      assert.equal(phx.log.find((e) => e.what === "open"), undefined, "never opened");
      // attempts follow the 10/50/100 ms backoff: the whole sequence of 4 attempts is well under 1 s
      const first = constructs[0]!, fourth = constructs[3]!;
      tc.diagnostic(`attempt times (ms): ${constructs.map((e) => e.at - first.at).join(", ")}`);
      assert.ok(fourth.at - first.at < 1500, `4 attempts took ${fourth.at - first.at} ms`);
    });

    test(`the client with authToken: websocket offers [phoenix, base64url.bearer.phx.<T>] and the server selects "phoenix"; long-poll sends X-Phoenix-AuthToken [${via}] [${client.name}] (item 7, partial)`, { timeout: 10_000 }, async () => {
      const phx = phxSocket(server, { client, via, authToken: "s3cret" });
      await connected(phx);
      const construct = phx.log.find((e) => e.what === "construct");
      assert.deepEqual(construct?.protocols, ["phoenix", "base64url.bearer.phx.czNjcmV0"]);
      if (via === "websocket") {
        const r = await handshake(server, { protocols: ["phoenix", "base64url.bearer.phx.czNjcmV0"] });
        assert.deepEqual(r, { status: 101, protocol: "phoenix" });
      } else {
        const gets = phx.log.all((e) => e.what === "request" && e.method === "GET");
        assert.ok(gets.length >= 1);
        for (const g of gets) assert.equal(g.headers?.["X-Phoenix-AuthToken"], "s3cret", "raw token in X-Phoenix-AuthToken on every GET");
      }
      // (that connect sees auth_token == "s3cret" is not observable through the conformance contract)
    });

    test(`socket.ping(cb) yields a round-trip time [${via}] [${client.name}] (item 8)`, { timeout: 10_000 }, async () => {
      const phx = phxSocket(server, { client, via });
      await connected(phx);
      const rtt = await new Promise<number>((resolveP, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ping callback within 2 s\n${phx.log.dump()}`)), 2000);
        const pushed = phx.socket.ping((ms) => { clearTimeout(timer); resolveP(ms); });
        if (!pushed) { clearTimeout(timer); reject(new Error("ping returned false (not connected)")); }
      });
      assert.equal(typeof rtt, "number");
      assert.ok(rtt >= 0 && rtt < 2000, `rtt ${rtt}`);
      const hb = phx.log.find({ dir: "out", topic: "phoenix", event: "heartbeat" });
      assert.ok(hb, "ping sent a heartbeat");
      const v = asV2(hb)!;
      assert.equal(v[0], null, "heartbeat join_ref null");
      const reply = phx.log.find({ dir: "in", topic: "phoenix", ref: v[1] });
      assert.deepEqual(reply?.json, [null, v[1], "phoenix", "phx_reply", { status: "ok", response: {} }]);
      await delay(0);
    });
  }
}
