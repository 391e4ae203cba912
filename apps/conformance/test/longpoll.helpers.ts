// Helpers shared by the long-poll tests: longpoll.test.ts (raw HTTP) and longpoll.scenarios.ts
// (the clients' LongPoll).
import assert from "node:assert/strict";
import type { PresenceDiffPayload as PresenceDiff } from "phoenix";
import {
  LONGPOLL_WINDOW_MS, asV2, assertLongPollHealthy, assertServerHealthy, lpFetch, server, serverAlive, topic,
  type LpResponse, type V2, type WireEntry,
} from "./harness/index.js";

/** The server's long-poll window (ms). */
export const W = LONGPOLL_WINDOW_MS;

let uniq = 0;
export function uname(prefix: string): string {
  uniq += 1;
  return `${prefix}-${process.pid}-${uniq}-${Math.random().toString(36).slice(2, 6)}`;
}

export function presTopic(name: string): string {
  return `presence:${topic(name).slice("echo:".length)}`;
}

/** The headers every JSON long-poll answer carries (docs/protocol.md §4.2). */
export function assertJsonHeaders(r: LpResponse, what: string): void {
  assert.match(r.headers.get("content-type") ?? "", /^application\/json/, `${what}: JSON content-type`);
  assert.equal(r.headers.get("cache-control"), "no-store", `${what}: cache-control`);
  assert.equal(r.headers.get("access-control-allow-origin"), "*", `${what}: access-control-allow-origin`);
}

/** HTTP 200 with exactly `{"status": s}` (POST answers carry no token and no messages). */
export function assertPostStatus(r: LpResponse, status: number, what: string): void {
  assert.equal(r.http, 200, `${what}: HTTP status (body ${r.text})`);
  assert.deepEqual(r.json, { status }, `${what}: body`);
  assertJsonHeaders(r, what);
}

/** HTTP 200 `{"status":410,"token":<new>,"messages":[]}`: a new session (first GET or dead token). */
export function assertNewSession(r: LpResponse, what: string, notToken?: string): string {
  assert.equal(r.http, 200, `${what}: HTTP status (body ${r.text})`);
  assert.deepEqual(Object.keys(r.json ?? {}).sort(), ["messages", "status", "token"], `${what}: keys of ${r.text}`);
  assert.equal(r.json.status, 410, `${what}: status`);
  assert.deepEqual(r.json.messages, [], `${what}: messages`);
  assert.equal(typeof r.json.token, "string", `${what}: token`);
  assert.ok((r.json.token as string).length > 0, `${what}: non-empty token`);
  if (notToken !== undefined) assert.notEqual(r.json.token, notToken, `${what}: a NEW token`);
  assertJsonHeaders(r, what);
  return r.json.token as string;
}

export const frame = (v: V2): string => JSON.stringify(v);

/** POST with an explicit token (query `vsn=2.0.0&token=…`) and a raw body. */
export function postWith(token: string | null, body: string | Buffer, contentType = "application/x-ndjson", ms?: number): Promise<LpResponse> {
  return lpFetch(server, {
    method: "POST", query: `vsn=2.0.0${token === null ? "" : `&token=${encodeURIComponent(token)}`}`,
    headers: { "content-type": contentType }, body, ...(ms !== undefined ? { ms } : {}),
  });
}

/** A session-state probe that never parks: an empty ndjson POST → 200 (alive) or 410 (gone). */
export async function sessionStatus(token: string): Promise<number> {
  const r = await postWith(token, "");
  return r.json?.status as number;
}

/** After a malformed request: the process is up and fresh websocket and long-poll sessions work. */
export async function assertStillAnswers(): Promise<void> {
  assert.ok(serverAlive(), `server process died\n${server.output()}`);
  await assertServerHealthy(server);
  await assertLongPollHealthy(server);
}

export function diffOf(e: WireEntry): PresenceDiff | undefined {
  const v = asV2(e);
  return v !== undefined && v[3] === "presence_diff" ? v[4] as PresenceDiff : undefined;
}

export const responseOf = (e: WireEntry): { status?: number; token?: string; messages?: unknown[] } | null =>
  (e.response ?? null) as { status?: number; token?: string; messages?: unknown[] } | null;

