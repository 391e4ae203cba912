// The raw long-poll client: hand-written HTTP requests to `<mount>/longpoll` (docs/protocol.md
// §4), one at a time (lpFetch) or as a session (RawLongPoll).

import { RawClient } from "./raw-client.js";
import { onCleanup, serverAlive, type ServerInfo } from "./servers.js";
import { short, topic } from "./util.js";

/** One long-poll HTTP answer. */
export interface LpResponse {
  /** the HTTP status */
  http: number;
  headers: Headers;
  text: string;
  /** the parsed body, or undefined when it is not JSON */
  json: any;
  /** ms from sending the request to the end of the answer */
  elapsed: number;
}

/** One long-poll HTTP request (GET unless `method`). */
export interface LpRequest {
  method?: string;
  /** the raw query string (without "?"), sent as is (duplicates and a trailing "&" allowed) */
  query?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** give up after this long (default: window + 3 s) */
  ms?: number;
  signal?: AbortSignal;
}

/** One HTTP request to `<server>/socket/longpoll`. */
export async function lpFetch(server: ServerInfo, req: LpRequest = {}): Promise<LpResponse> {
  const url = `${server.longpoll}${req.query !== undefined ? `?${req.query}` : ""}`;
  const ms = req.ms ?? server.longpollWindowMs + 3000;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new Error(`timed out after ${ms} ms`)), ms);
  const onAbort = () => controller.abort(req.signal?.reason);
  req.signal?.addEventListener("abort", onAbort);
  const started = Date.now();
  try {
    const res = await fetch(url, {
      method: req.method ?? "GET",
      headers: req.headers ?? {},
      ...(req.body !== undefined ? { body: req.body } : {}),
      signal: controller.signal,
    });
    const text = await res.text();
    let json: any;
    try { json = JSON.parse(text); } catch { json = undefined; }
    return { http: res.status, headers: res.headers, text, json, elapsed: Date.now() - started };
  } catch (e) {
    if (controller.signal.aborted && !req.signal?.aborted) throw new Error(`${req.method ?? "GET"} ${url}: no answer within ${ms} ms`);
    throw e;
  } finally {
    clearTimeout(timer);
    req.signal?.removeEventListener("abort", onAbort);
  }
}

/**
 * A RawClient over long-poll: one session (token), ndjson POSTs, GETs whose messages are recorded
 * as "in" frames in `log` (conn 0), optional background polling. Registered for cleanup (stops
 * polling; the server reaps the session later).
 */
export class RawLongPoll extends RawClient {
  private polling = false;
  private aborter = new AbortController();
  /** the background poll loop, while running */
  private loop: Promise<void> | null = null;
  /** when the last GET was sent */
  lastGetAt = 0;

  private constructor(readonly server: ServerInfo, readonly params: string, public token: string, readonly first: LpResponse) {
    super();
    onCleanup(() => this.stop());
  }

  /** First GET (creates the session, answer in `first`); asserts `{"status":410,"token":T,"messages":[]}`. */
  static async open(server: ServerInfo, params: Record<string, string> = {}): Promise<RawLongPoll> {
    const q = new URLSearchParams(params).toString();
    const query = `${q ? `${q}&` : ""}vsn=2.0.0`;
    const r = await lpFetch(server, { query, headers: { accept: "application/json" } });
    if (r.http !== 200 || r.json?.status !== 410 || typeof r.json?.token !== "string") {
      throw new Error(`long-poll session not created: HTTP ${r.http} ${short(r.text)}`);
    }
    return new RawLongPoll(server, query, r.json.token as string, r);
  }

  /** The query for a request with the session token (as phoenix.js sends it: params, vsn, token). */
  query(token = this.token): string { return `${this.params}&token=${encodeURIComponent(token)}`; }

  /** POSTs ndjson lines (recorded as "out"); returns the answer. */
  async post(lines: string[], opts: { contentType?: string; ms?: number } = {}): Promise<LpResponse> {
    for (const line of lines) this.log.add({ conn: 0, dir: "out", text: line });
    const r = await lpFetch(this.server, {
      method: "POST", query: this.query(), body: lines.join("\n"),
      headers: { "content-type": opts.contentType ?? "application/x-ndjson" },
      ...(opts.ms !== undefined ? { ms: opts.ms } : {}), signal: this.aborter.signal,
    });
    this.log.add({ conn: 0, dir: "event", what: "response", method: "POST", response: r.json ?? r.text });
    return r;
  }

  /** One GET with the token; its messages are recorded as "in" frames. */
  async get(opts: { ms?: number } = {}): Promise<LpResponse> {
    this.lastGetAt = Date.now();
    const r = await lpFetch(this.server, {
      query: this.query(), headers: { accept: "application/json" },
      ...(opts.ms !== undefined ? { ms: opts.ms } : {}), signal: this.aborter.signal,
    });
    this.log.add({ conn: 0, dir: "event", what: "response", method: "GET", response: r.json ?? r.text });
    if (r.json?.status === 200 && Array.isArray(r.json.messages)) {
      for (const m of r.json.messages as unknown[]) this.log.add({ conn: 0, dir: "in", text: typeof m === "string" ? m : JSON.stringify(m) });
    }
    return r;
  }

  /** Polls in the background until stop() or an answer other than 200/204. */
  startPolling(): void {
    if (this.polling) return;
    this.polling = true;
    this.loop = (async () => {
      while (this.polling) {
        let r: LpResponse;
        try { r = await this.get(); } catch (e) {
          if (this.polling) this.log.add({ conn: 0, dir: "event", what: "error", reason: (e as Error).message });
          break;
        }
        if (r.json?.status !== 200 && r.json?.status !== 204) {
          this.log.add({ conn: 0, dir: "event", what: "close", reason: `poll answered ${short(r.text)}` });
          break;
        }
      }
      this.polling = false;
    })();
  }

  /** Stops background polling, aborting a parked GET. */
  async stopPolling(): Promise<void> {
    if (!this.polling) return;
    this.polling = false;
    const loop = this.loop;
    this.abortInFlight();
    await loop;
  }

  private abortInFlight(): void {
    // aborts every request of this client in flight; later requests use a fresh controller
    this.aborter.abort(new Error("stopped"));
    this.aborter = new AbortController();
  }

  /** Stops everything (cleanup). */
  stop(): void {
    this.polling = false;
    this.abortInFlight();
  }

  /** POSTs one V2 frame; returns its ref and the POST answer. */
  async push(joinRef: string | null, topicName: string, event: string, payload: unknown, ref: string | null = this.nextRef()): Promise<{ ref: string | null; answer: LpResponse }> {
    const answer = await this.post([JSON.stringify([joinRef, ref, topicName, event, payload])]);
    return { ref, answer };
  }

  /** POSTs the frame; the POST must answer `{"status":200}` (replies come by GET: polling must run). */
  protected async deliver(text: string, event: string): Promise<void> {
    const answer = await this.post([text]);
    if (answer.json?.status !== 200) throw new Error(`POST ${event} answered ${answer.http} ${short(answer.text)}\n${this.log.dump()}`);
  }
}

/** Asserts that a fresh long-poll session works: create, join, ping (POST 200, reply by GET). */
export async function assertLongPollHealthy(server: ServerInfo): Promise<void> {
  if (!serverAlive()) throw new Error(`server process died; output:\n${server.output()}`);
  const lp = await RawLongPoll.open(server);
  lp.startPolling();
  await lp.assertJoinAndPing(topic("lp-health"), "fresh long-poll session");
  await lp.stopPolling();
}

