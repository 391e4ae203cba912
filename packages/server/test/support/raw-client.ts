/** Test support: a raw WebSocket client that sends V1/V2 frames and waits for exact frames back. */
import { WebSocket } from "ws";

/** A received frame: text frames parsed as JSON, binary frames as bytes. */
export type Received = { binary: false; json: unknown } | { binary: true; bytes: Buffer };

/** A raw protocol client. */
export class RawClient {
  readonly received: Received[] = [];
  closeCode: number | undefined;
  closeReason = "";
  private waiters: Array<() => void> = [];

  private constructor(readonly ws: WebSocket) {
    ws.on("message", (data, isBinary) => {
      const buffer = data as Buffer;
      this.received.push(isBinary ? { binary: true, bytes: buffer } : { binary: false, json: JSON.parse(buffer.toString("utf8")) });
      this.wake();
    });
    ws.on("close", (code, reason) => {
      this.closeCode = code;
      this.closeReason = reason.toString();
      this.wake();
    });
    ws.on("error", () => {});
  }

  /** Connects; rejects with the HTTP status when the handshake is refused. */
  static connect(url: string, options: ConstructorParameters<typeof WebSocket>[2] & { protocols?: string[] } = {}): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, options.protocols ?? [], options);
      ws.once("open", () => resolve(new RawClient(ws)));
      ws.once("unexpected-response", (_req, res) => {
        let body = "";
        res.on("data", (chunk: Buffer) => { body += chunk.toString(); });
        res.on("end", () => reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode, body })));
      });
      ws.once("error", (error) => reject(error));
    });
  }

  /** Sends a V2 array frame. */
  send(frame: unknown): void {
    this.ws.send(JSON.stringify(frame));
  }

  /** Sends raw text or bytes. */
  sendRaw(data: string | Buffer, binary = typeof data !== "string"): void {
    this.ws.send(data, { binary });
  }

  /** Waits for the first received text frame (after `from`) that satisfies `match`. */
  async next(match: (json: unknown[]) => boolean, timeoutMs = 2000, from = 0): Promise<unknown[]> {
    const found = await this.waitFor(() => {
      for (let i = from; i < this.received.length; i++) {
        const frame = this.received[i]!;
        if (!frame.binary && Array.isArray(frame.json) && match(frame.json)) return frame.json;
      }
      return undefined;
    }, timeoutMs);
    return found;
  }

  /** Waits for the reply with `ref`. */
  reply(ref: string, timeoutMs = 2000): Promise<unknown[]> {
    return this.next((f) => f[1] === ref && f[3] === "phx_reply", timeoutMs);
  }

  /** Waits until the connection is closed; returns the close code. */
  async closed(timeoutMs = 2000): Promise<number> {
    return this.waitFor(() => this.closeCode, timeoutMs);
  }

  /** Waits until `check` returns something other than undefined. */
  async waitFor<T>(check: () => T | undefined, timeoutMs: number): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = check();
      if (value !== undefined) return value;
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(`timed out; received so far: ${JSON.stringify(this.received.map((r) => (r.binary ? `<${r.bytes.length} bytes>` : r.json)))}`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => { clearTimeout(timer); resolve(); });
      });
    }
  }

  /** Closes the connection. */
  close(): void {
    this.ws.close();
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}

/** Sleeps `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
