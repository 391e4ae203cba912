// Robustness: malformed frames get an error reply or a closed connection (Phoenix itself closes the
// connection for undecodable frames) — never a crashed server; a fresh connection still works.
// Also docs/protocol.md §3.1: any other event on topic "phoenix" is treated like a message to an unjoined topic.
import { test } from "node:test";
import assert from "node:assert/strict";
import { RawWebSocket, assertServerHealthy, describeEntry, serverAlive, useServer, waitUntil, type WireEntry } from "./harness/index.js";

const server = useServer();

function isErrorReply(e: WireEntry): boolean {
  if (e.dir !== "in" || e.json === undefined) return false;
  const j = e.json as unknown;
  if (Array.isArray(j)) return j[3] === "phx_reply" && (j[4] as { status?: unknown } | null)?.status === "error";
  if (j && typeof j === "object") {
    const o = j as { event?: unknown; payload?: { status?: unknown } };
    return o.event === "phx_reply" && o.payload?.status === "error";
  }
  return false;
}

/** Sends a bad frame and checks: error reply or close; the connection is usable if still open; the server is up. */
async function sendBad(vsn: string | null, frame: string | Buffer): Promise<string> {
  const c = await RawWebSocket.connect(server, { vsn });
  const from = c.log.nextSeq;
  if (typeof frame === "string") c.sendText(frame); else c.sendBinary(frame);
  try {
    await waitUntil(() => c.closeInfo !== null || c.log.find(isErrorReply, from) !== undefined, 1500,
      "an error reply or a closed connection", () => c.log.dump());
  } catch (e) {
    throw new Error(`bad frame was silently ignored (neither an error reply nor a close): ${(e as Error).message}`);
  }
  // anything the server did send in response must be a well-formed frame
  for (const e of c.log.all((x) => x.dir === "in", from)) {
    if (e.bin) assert.ok(typeof e.binMsg === "object", `malformed binary frame: ${describeEntry(e)}`);
    else assert.ok(e.json !== undefined, `non-JSON text frame from the server: ${describeEntry(e)}`);
  }
  let what: string;
  if (c.closeInfo) {
    what = `closed ${c.closeInfo.code}`;
  } else {
    const reply = c.log.find(isErrorReply, from)!;
    what = `error reply ${reply.text}`;
    // the connection is still usable
    if (vsn === null) {
      c.sendJson({ topic: "phoenix", event: "heartbeat", payload: {}, ref: "hb" });
      const hb = await c.log.wait({ dir: "in", v1: true, topic: "phoenix", ref: "hb" }, "V1 heartbeat reply after a bad frame");
      assert.deepEqual((hb.json as { payload: unknown }).payload, { status: "ok", response: {} });
    } else {
      const hb = await c.heartbeat();
      assert.deepEqual(hb[4], { status: "ok", response: {} });
    }
  }
  assert.ok(serverAlive(), `server process died after the bad frame\n${server.output()}`);
  await assertServerHealthy(server);
  c.terminate();
  return what;
}

const v2Text: Array<[string, string]> = [
  ["not JSON", "not json {"],
  ["empty text frame", ""],
  ["JSON string", "\"just a string\""],
  ["JSON number", "42"],
  ["JSON null", "null"],
  ["JSON object (V1 shape) on a V2 connection", JSON.stringify({ topic: "echo:x", event: "phx_join", payload: {}, ref: "1" })],
  ["empty array", "[]"],
  ["4-element array", JSON.stringify(["1", "1", "echo:x", "phx_join"])],
  ["numbers everywhere", "[1,2,3,4,5]"],
  ["null topic", JSON.stringify(["1", "2", null, "phx_join", {}])],
  ["numeric event", JSON.stringify(["1", "2", "echo:x", 7, {}])],
  ["object join_ref", JSON.stringify([{}, "2", "echo:x", "ping", {}])],
];

for (const [name, frame] of v2Text) {
  test(`bad frame (V2, text): ${name} → error reply or close; server stays up`, { timeout: 10_000 }, async (t) => {
    const what = await sendBad("2.0.0", frame);
    t.diagnostic(what);
  });
}

// Phoenix does not type-check refs (it echoes whatever JSON value it got), so a numeric ref may also
// be accepted; then the reply must correlate (ref 2 or "2") and be well-formed.
test("bad frame (V2, text): numeric ref → error reply, close, or a correlated reply; server stays up", { timeout: 10_000 }, async (t) => {
  const c = await RawWebSocket.connect(server);
  c.sendText(JSON.stringify(["1", 2, "echo:numref", "phx_join", {}]));
  await waitUntil(() => c.closeInfo !== null || c.log.find((e) => e.dir === "in") !== undefined, 1500,
    "a reply or a close", () => c.log.dump());
  const first = c.log.find((e) => e.dir === "in");
  if (c.closeInfo && !first) {
    t.diagnostic(`closed ${c.closeInfo.code}`);
  } else {
    const v = first!.json as unknown[];
    assert.ok(Array.isArray(v) && v[3] === "phx_reply" && (v[1] === 2 || v[1] === "2"), `reply correlates with ref 2: ${first!.text}`);
    t.diagnostic(`server answered ${first!.text}`);
    assert.deepEqual((await c.heartbeat())[4], { status: "ok", response: {} });
  }
  await assertServerHealthy(server);
});

const v2Binary: Array<[string, Buffer]> = [
  ["unknown kind 0xff", Buffer.from([0xff, 0x00, 0x01])],
  ["empty binary frame", Buffer.alloc(0)],
  ["kind 0 header only, lengths past the end", Buffer.from([0, 10, 10, 10, 10])],
  ["kind 0 truncated header", Buffer.from([0, 1])],
  ["kind 1 (server-only kind) from a client", Buffer.from([1, 0, 0, 6, 2, ...Buffer.from("echo:xok")])],
  ["kind 2 (server-only kind) from a client", Buffer.from([2, 6, 1, ...Buffer.from("echo:xe")])],
  ["kind 0 with invalid UTF-8 topic", Buffer.from([0, 0, 0, 2, 4, 0xc3, 0x28, ...Buffer.from("ping")])],
];

for (const [name, frame] of v2Binary) {
  test(`bad frame (V2, binary): ${name} → error reply or close; server stays up`, { timeout: 10_000 }, async (t) => {
    const what = await sendBad("2.0.0", frame);
    t.diagnostic(what);
  });
}

const v1Frames: Array<[string, string | Buffer]> = [
  ["V2 array on a V1 connection", JSON.stringify(["1", "1", "echo:x", "phx_join", {}])],
  ["object missing ref", JSON.stringify({ topic: "echo:x", event: "phx_join", payload: {} })],
  ["numeric topic", JSON.stringify({ topic: 5, event: "phx_join", payload: {}, ref: "1" })],
  ["not JSON", "{oops"],
  ["binary frame on a V1 (text-only) connection", Buffer.from([0, 0, 1, 6, 4, ...Buffer.from("1echo:xping"), 1, 2])],
];

for (const [name, frame] of v1Frames) {
  test(`bad frame (V1): ${name} → error reply or close; server stays up`, { timeout: 10_000 }, async (t) => {
    const what = await sendBad(null, frame);
    t.diagnostic(what);
  });
}

test("an unknown event on topic \"phoenix\" → error reply (unmatched topic) or close; heartbeat still works", { timeout: 10_000 }, async () => {
  const c = await RawWebSocket.connect(server);
  c.sendJson([null, "3", "phoenix", "foo", {}]);
  await waitUntil(() => c.closeInfo !== null || c.log.find({ dir: "in", ref: "3" }) !== undefined, 1500,
    "a reply to ref 3 or a close", () => c.log.dump());
  if (!c.closeInfo) {
    const reply = c.log.find({ dir: "in", ref: "3" })!;
    assert.deepEqual(reply.json, [null, "3", "phoenix", "phx_reply", { status: "error", response: { reason: "unmatched topic" } }],
      "treated like a message to an unjoined topic (docs/protocol.md §3.1)");
    assert.deepEqual((await c.heartbeat())[4], { status: "ok", response: {} });
  }
  await assertServerHealthy(server);
});

test("a burst of mixed bad frames on several connections leaves the server healthy", { timeout: 15_000 }, async () => {
  const clients = await Promise.all([0, 1, 2, 3].map(() => RawWebSocket.connect(server)));
  for (const c of clients) {
    for (const [, f] of v2Text) c.sendText(f);
    for (const [, f] of v2Binary) if (c.isOpen) c.sendBinary(f);
  }
  await waitUntil(() => clients.every((c) => c.closeInfo !== null || c.log.all(isErrorReply).length > 0), 3000,
    "every connection answered or closed", () => clients.map((c) => c.log.dump(5)).join("\n"));
  assert.ok(serverAlive(), `server died\n${server.output()}`);
  await assertServerHealthy(server);
});
