/**
 * Compile-time tests of the typed client: a channel typed from a server `defineChannel` (zod
 * schemas) checks event names, push payloads (schema input), replies, server pushes and presence
 * metas (schema output) and join params. Every `@ts-expect-error` line must fail to compile (an
 * unused one fails the build). The functions are never called; one runtime test makes the file a
 * test file.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import WebSocket from "ws";
import { z } from "zod";
import { defineChannel, ok, type ChannelSocket } from "@cinder/server";
import { LongPoll, Presence, Socket, type Channel, type Push, type TransportConstructor } from "../src/index.js";

const Room = defineChannel({
  events: {
    new_msg: z.object({ body: z.string().min(1) }),
    typing: z.object({ on: z.boolean().default(true) }),
  },
  replies: { new_msg: z.object({ id: z.number() }) },
  pushes: {
    new_msg: z.object({ body: z.string(), user: z.string() }),
    user_joined: z.object({ user: z.string() }),
  },
  meta: z.object({ name: z.string(), online_at: z.number() }),
  join(_topic: string, _params: { last_seen_id: number }, _socket: ChannelSocket<{ userId: string }>) {
    return ok();
  },
});

/** A channel that declares nothing but its join. */
const Plain = defineChannel({ join: () => ok() });

/** Exact type equality. */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false;
function expectType<T extends true>(_: T): void {}

export function typedChannel(socket: Socket): void {
  const channel = socket.channel<typeof Room>("room:1", { last_seen_id: 1 });
  socket.channel<typeof Room>("room:1", () => ({ last_seen_id: 2 }));
  // @ts-expect-error join params are required
  socket.channel<typeof Room>("room:1");
  // @ts-expect-error join params are typed from join's params
  socket.channel<typeof Room>("room:1", { last_seen_id: "7" });

  channel.push("new_msg", { body: "hi" });
  // @ts-expect-error body must be a string
  channel.push("new_msg", { body: 1 });
  // @ts-expect-error the payload is required
  channel.push("new_msg");
  // @ts-expect-error undeclared events cannot be pushed
  channel.push("new_mgs", { body: "typo" });
  channel.push("typing", {}); // the schema's input type: `on` has a default
  channel.push("new_msg", { body: "hi" }, 500);

  const push: Push<{ id: number }> = channel.push("new_msg", { body: "hi" });
  push.receive("ok", (reply) => {
    expectType<Equal<typeof reply, { id: number }>>(true);
  });
  push.receive("error", (response) => {
    expectType<Equal<typeof response, unknown>>(true);
  });
  const reply: Promise<{ id: number }> = channel.call("new_msg", { body: "x" });
  void reply;
  // @ts-expect-error replies are typed
  const wrong: Promise<{ id: string }> = channel.call("new_msg", { body: "x" });
  void wrong;
  const typing = channel.call("typing", { on: false });
  expectType<Equal<typeof typing, Promise<unknown>>>(true);

  channel.on("new_msg", (msg) => {
    expectType<Equal<typeof msg, { body: string; user: string }>>(true);
  });
  channel.on("user_joined", (msg) => {
    const user: string = msg.user;
    void user;
  });
  // @ts-expect-error server pushes are typed
  channel.on("user_joined", (msg: { user: number }) => void msg);
  // @ts-expect-error undeclared pushes cannot be subscribed to
  channel.on("user_jioned", () => undefined);
  channel.on("presence_diff", () => undefined);
  channel.on("phx_error", () => undefined);

  const presence = new Presence(channel);
  presence.onJoin((_key, _current, joined) => {
    const name: string | undefined = joined.metas[0]?.name;
    const ref: string | undefined = joined.metas[0]?.phx_ref;
    void name;
    void ref;
  });
  const names: Array<string | undefined> = presence.list((_key, p) => p.metas[0]?.name);
  void names;
  // @ts-expect-error metas are typed from the meta schema
  presence.list((_key, p) => p.metas[0]?.nickname);
}

export function plainAndUntyped(socket: Socket): void {
  // a definition without events/replies/pushes/meta: loose, like phoenix.js
  const plain = socket.channel<typeof Plain>("plain:1");
  plain.push("anything", { at: "all" });
  plain.on("whatever", (payload) => {
    expectType<Equal<typeof payload, unknown>>(true);
  });
  // no type argument: any event, unknown payloads, optional params and payloads
  const loose: Channel = socket.channel("room:2");
  socket.channel("room:3", { any: "params" });
  socket.channel("room:4", () => ({ fresh: Date.now() }));
  loose.push("anything");
  loose.push("binary", new ArrayBuffer(2));
  loose.on("any_event", (payload, ref, joinRef) => {
    expectType<Equal<typeof payload, unknown>>(true);
    void ref;
    void joinRef;
  });
  const answer = loose.call("ping", {});
  expectType<Equal<typeof answer, Promise<unknown>>>(true);
  const presence = new Presence(loose);
  presence.list((_key, p) => p.metas[0]?.anything);
}

/** A class shaped like the browser's WebSocket (handlers taking specific event types). */
declare class BrowserLikeWebSocket {
  constructor(url: string | URL, protocols?: string | string[]);
  readonly readyState: number;
  readonly bufferedAmount: number;
  binaryType: "blob" | "arraybuffer";
  onopen: ((this: BrowserLikeWebSocket, ev: { type: string }) => unknown) | null;
  onerror: ((this: BrowserLikeWebSocket, ev: { type: string }) => unknown) | null;
  onmessage: ((this: BrowserLikeWebSocket, ev: { data: unknown; origin: string }) => unknown) | null;
  onclose: ((this: BrowserLikeWebSocket, ev: { code: number; reason: string; wasClean: boolean }) => unknown) | null;
  send(data: string | ArrayBufferLike | Blob | ArrayBufferView): void;
  close(code?: number, reason?: string): void;
}

export function transports(): void {
  const fromWs: TransportConstructor = WebSocket;
  const fromBrowser: TransportConstructor = BrowserLikeWebSocket;
  const longPoll: TransportConstructor = LongPoll;
  void [fromWs, fromBrowser, longPoll];
  new Socket("/socket", { transport: WebSocket, params: () => ({ token: "t" }), authToken: "x", longPollFallbackMs: 2500 });
  // @ts-expect-error a transport must be constructible like a WebSocket
  new Socket("/socket", { transport: Date });
}

test("the typed client compiles (see the @ts-expect-error lines of this file)", () => {
  assert.equal(typeof typedChannel, "function");
});
