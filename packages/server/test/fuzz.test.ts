/**
 * Fuzzing a running server (a child process): over 100,000 random and mutated frames — V2 JSON,
 * V1 JSON, binary, and long-poll bodies — from several connections at once. The server must stay
 * up, answer a well-formed client afterwards, and come back to its baseline heap. Seeded, so a
 * failure can be replayed (CINDER_FUZZ_SEED).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { WebSocket } from "ws";
import { RawClient } from "./support/raw-client.js";
import { prng } from "./support/prng.js";

const SERVER = fileURLToPath(new URL("./support/fuzz-server.js", import.meta.url));
const TOTAL_FRAMES = Number(process.env.CINDER_FUZZ_FRAMES ?? 100_000);
const SEED = Number(process.env.CINDER_FUZZ_SEED ?? 20261122);

class Fuzzer {
  constructor(private readonly random: () => number) {}
  int(n: number): number { return Math.floor(this.random() * n); }
  pick<T>(items: readonly T[]): T { return items[this.int(items.length)]!; }
  chance(p: number): boolean { return this.random() < p; }

  string(): string {
    const kind = this.int(6);
    if (kind === 0) return "";
    if (kind === 1) return "x".repeat(this.int(600));
    if (kind === 2) return this.pick(["__proto__", "constructor", "prototype", "phoenix", "room:a", "\u0000", "𝓤nicode ✓", "\ud800"]);
    return Array.from({ length: this.int(24) }, () => String.fromCharCode(32 + this.int(0x2000))).join("");
  }

  value(depth = 0): unknown {
    switch (this.int(depth > 3 ? 5 : 8)) {
      case 0: return null;
      case 1: return this.chance(0.5);
      case 2: return this.pick([0, -1, 1.5, 2 ** 53 + 7, -(2 ** 63), 1e308, Number.MAX_SAFE_INTEGER]);
      case 3: return this.string();
      case 4: return this.int(1000);
      case 5: return Array.from({ length: this.int(6) }, () => this.value(depth + 1));
      default: {
        const object: Record<string, unknown> = {};
        for (let i = this.int(6); i > 0; i--) Object.defineProperty(object, this.chance(0.2) ? this.pick(["__proto__", "constructor"]) : this.string(),
          { value: this.value(depth + 1), enumerable: true, writable: true, configurable: true });
        return object;
      }
    }
  }

  topic(): string {
    return this.chance(0.8) ? this.pick(["room:a", "room:b", "other:c", "phoenix", "room:" + this.int(50)]) : this.string();
  }

  event(): string {
    return this.chance(0.85) ? this.pick(["phx_join", "phx_leave", "ping", "broadcast", "push", "throw", "heartbeat"]) : this.string();
  }

  ref(): unknown {
    return this.chance(0.9) ? this.pick([null, String(this.int(20)), String(this.int(1e6))]) : this.value(3);
  }

  /** A V2 text frame: mostly well-shaped with hostile contents, sometimes malformed. */
  v2(): string {
    const array: unknown[] = [this.ref(), this.ref(), this.topic(), this.event(), this.value()];
    if (this.chance(0.03)) array.length = this.int(5);
    if (this.chance(0.03)) array.push(this.value());
    const text = JSON.stringify(array);
    return this.chance(0.01) ? this.mutate(text) : text;
  }

  /** A V1 text frame. */
  v1(): string {
    const object: Record<string, unknown> = { topic: this.topic(), event: this.event(), payload: this.value(), ref: this.ref() };
    if (this.chance(0.3)) object.join_ref = this.ref();
    if (this.chance(0.02)) delete object[this.pick(["topic", "event", "payload", "ref"])];
    const text = JSON.stringify(object);
    return this.chance(0.01) ? this.mutate(text) : text;
  }

  /** A binary frame: a well-formed kind-0 push with random fields, sometimes garbage. */
  binary(): Buffer {
    if (this.chance(0.05)) return Buffer.from(Array.from({ length: this.int(80) }, () => this.int(256)));
    const fields = [this.ref(), this.ref(), this.topic(), this.event()].map((f) => Buffer.from(typeof f === "string" ? f.slice(0, 60) : ""));
    const header = Buffer.from([0, ...fields.map((f) => f.length)]);
    const frame = Buffer.concat([header, ...fields, Buffer.from(Array.from({ length: this.int(64) }, () => this.int(256)))]);
    if (this.chance(0.02)) frame[this.int(frame.length)] = this.int(256);
    return frame;
  }

  mutate(text: string): string {
    const chars = [...text];
    for (let i = 1 + this.int(3); i > 0; i--) {
      const at = this.int(chars.length + 1);
      const op = this.int(3);
      if (op === 0) chars.splice(at, 1);
      else if (op === 1) chars.splice(at, 0, this.pick(["[", "]", "{", "}", '"', ",", ":", "\\", "\u0000", "9"]));
      else chars[at] = String.fromCharCode(this.int(128));
    }
    return chars.join("");
  }
}

async function heap(base: string): Promise<{ heapUsed: number; connections: number }> {
  return (await fetch(`${base}/heap`)).json() as Promise<{ heapUsed: number; connections: number }>;
}

/** One connection's share of the fuzzing: sends `quota` frames, reconnecting whenever the server closes it. */
async function fuzzSocket(url: string, fuzzer: Fuzzer, quota: number, v1: boolean, counters: { sent: number; reconnects: number }): Promise<void> {
  let sent = 0;
  let beat = 0;
  let refusedInARow = 0;
  while (sent < quota) {
    const ws = new WebSocket(v1 ? url : `${url}?vsn=2.0.0`);
    ws.on("error", () => undefined);
    const opened = await new Promise<boolean>((resolve) => { ws.once("open", () => resolve(true)); ws.once("close", () => resolve(false)); });
    if (!opened) {
      if (++refusedInARow >= 20) throw new Error(`the server stopped accepting connections after ${counters.sent} frames`);
      await new Promise((resolve) => setTimeout(resolve, 50));
      continue;
    }
    refusedInARow = 0;
    counters.reconnects++;
    while (sent < quota && ws.readyState === WebSocket.OPEN) {
      for (let i = 0; i < 200 && sent < quota && ws.readyState === WebSocket.OPEN; i++) {
        if (!v1 && fuzzer.chance(0.15)) ws.send(fuzzer.binary(), { binary: true });
        else ws.send(v1 ? fuzzer.v1() : fuzzer.v2());
        sent++;
        counters.sent++;
      }
      // A heartbeat after each batch: its reply (or the close) paces the sender to the server.
      const ref = `hb${++beat}`;
      const replied = new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 5000);
        const done = (): void => { clearTimeout(timer); ws.off("message", onMessage); resolve(); };
        const onMessage = (data: Buffer): void => { if (data.toString().includes(`"${ref}"`)) done(); };
        ws.on("message", onMessage);
        ws.once("close", done);
      });
      if (ws.readyState === WebSocket.OPEN) {
        ws.send(v1 ? JSON.stringify({ topic: "phoenix", event: "heartbeat", payload: {}, ref }) : JSON.stringify([null, ref, "phoenix", "heartbeat", {}]));
      }
      await replied;
    }
    ws.terminate();
  }
}

/** encodeURIComponent that also takes lone surrogates (replaced, as a browser would send them). */
function encode(text: string): string {
  return encodeURIComponent(text.replace(/[\ud800-\udfff]/g, "\ufffd"));
}

/** Long-poll bodies: random ndjson lines (frames, garbage, base64) to real and forged sessions. */
async function fuzzLongPoll(base: string, fuzzer: Fuzzer, lines: number, counters: { sent: number; statuses: Map<string, number> }): Promise<void> {
  const url = `${base}/socket/longpoll`;
  let token = "";
  let sentLines = 0;
  while (sentLines < lines) {
    if (token === "" || fuzzer.chance(0.05)) {
      const created = await (await fetch(`${url}?vsn=2.0.0`)).json() as { token: string };
      token = created.token;
    }
    const batch = Array.from({ length: 1 + fuzzer.int(120) }, () => {
      const kind = fuzzer.int(100);
      if (kind < 75) return fuzzer.v2();
      if (kind < 99) return fuzzer.binary().toString("base64");
      return fuzzer.string().replace(/\r?\n/g, " ");
    });
    const useToken = fuzzer.chance(0.9) ? token : fuzzer.pick(["", "garbage", `${token.slice(0, -3)}abc`, fuzzer.string()]);
    const response = await fetch(`${url}?vsn=2.0.0&token=${encode(useToken)}`, {
      method: "POST",
      headers: { "content-type": fuzzer.chance(0.9) ? "application/x-ndjson" : "text/plain" },
      body: batch.join(fuzzer.chance(0.5) ? "\n" : "\r\n"),
    });
    const status = response.headers.get("content-type")?.includes("json") ? `${response.status}:${((await response.json()) as { status?: number }).status ?? "error"}` : String(response.status);
    counters.statuses.set(status, (counters.statuses.get(status) ?? 0) + 1);
    if (status.endsWith(":410")) token = "";
    sentLines += batch.length;
    counters.sent += batch.length;
    if (fuzzer.chance(0.1)) await fetch(`${url}?vsn=2.0.0&token=${encode(useToken)}`).then((r) => r.text());
  }
}

test(`fuzz: ${TOTAL_FRAMES.toLocaleString("en")} random and mutated frames; the server stays up, still answers, and its heap returns to baseline`, { timeout: 180_000 }, async () => {
  const child = spawn(process.execPath, ["--expose-gc", SERVER], { stdio: ["ignore", "pipe", "pipe"] });
  const errors: string[] = [];
  child.stderr!.on("data", (chunk: Buffer) => errors.push(chunk.toString()));
  try {
    const port = await new Promise<number>((resolve, reject) => {
      child.stdout!.on("data", (chunk: Buffer) => {
        const match = /listening (\d+)/.exec(chunk.toString());
        if (match) resolve(Number(match[1]));
      });
      child.once("exit", (code) => reject(new Error(`fuzz server exited (${code}): ${errors.join("")}`)));
    });
    const base = `http://127.0.0.1:${port}`;
    const wsUrl = `ws://127.0.0.1:${port}/socket/websocket`;
    const random = prng(SEED);
    const counters = { sent: 0, reconnects: 0 };
    const lpCounters = { sent: 0, statuses: new Map<string, number>() };

    // Warm up, then take the baseline.
    await fuzzSocket(wsUrl, new Fuzzer(prng(SEED + 1)), 2_000, false, { sent: 0, reconnects: 0 });
    await new Promise((resolve) => setTimeout(resolve, 800));
    const baseline = await heap(base);

    const lpLines = Math.round(TOTAL_FRAMES * 0.05);
    const perSocket = Math.ceil((TOTAL_FRAMES - lpLines) / 6);
    const started = Date.now();
    await Promise.all([
      ...[0, 1, 2, 3, 4].map((i) => fuzzSocket(wsUrl, new Fuzzer(prng(Math.floor(random() * 2 ** 31))), perSocket, false, counters)),
      fuzzSocket(wsUrl, new Fuzzer(prng(Math.floor(random() * 2 ** 31))), perSocket, true, counters),
      fuzzLongPoll(base, new Fuzzer(prng(Math.floor(random() * 2 ** 31))), lpLines, lpCounters),
    ]);
    const total = counters.sent + lpCounters.sent;
    console.log(`# fuzz: ${total} frames (${counters.sent} websocket over ${counters.reconnects} connections, ${lpCounters.sent} long-poll lines) in ${Date.now() - started} ms; long-poll answers ${JSON.stringify([...lpCounters.statuses])}`);
    assert.ok(total >= TOTAL_FRAMES, `sent ${total}`);
    assert.equal(child.exitCode, null, `the server is up (stderr: ${errors.join("").slice(0, 500)})`);

    const client = await RawClient.connect(`${wsUrl}?vsn=2.0.0`);
    client.send(["1", "1", "room:final", "phx_join", { hello: true }]);
    assert.deepEqual((await client.reply("1"))[4], { status: "ok", response: { params: { hello: true } } });
    client.send(["1", "2", "room:final", "ping", { still: "alive" }]);
    assert.deepEqual((await client.reply("2"))[4], { status: "ok", response: { still: "alive" } });
    client.close();

    // Long-poll sessions are reaped within 3 windows; then the heap is back where it was.
    let after = await heap(base);
    const deadline = Date.now() + 10_000;
    while ((after.connections > 0 || after.heapUsed > baseline.heapUsed + 8 * 1024 * 1024) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 300));
      after = await heap(base);
    }
    console.log(`# fuzz: heap ${Math.round(baseline.heapUsed / 1024)} KiB before, ${Math.round(after.heapUsed / 1024)} KiB after; ${after.connections} connections left`);
    assert.equal(after.connections, 0, "every connection and session is gone");
    assert.ok(after.heapUsed <= baseline.heapUsed + 8 * 1024 * 1024,
      `heap back to baseline: ${Math.round(after.heapUsed / 1048576)} MiB vs ${Math.round(baseline.heapUsed / 1048576)} MiB`);
    assert.equal(errors.join(""), "", "nothing on the server's stderr (no crash, no unhandled error)");
  } finally {
    child.kill("SIGKILL");
  }
});
