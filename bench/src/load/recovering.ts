/**
 * Raw subscribers that reconnect and recover (the recovery scenario), for Cinder and Socket.IO:
 *
 * - Cinder: Phoenix V2 JSON; join `stream:<topic>` with `{stream: true}`, keep the position of
 *   every broadcast (its ref, docs/recovery.md), and on a reconnect rejoin with
 *   `{stream: "<epoch>:<offset>"}`; the join reply's `stream.recovered` says whether it recovered.
 * - Socket.IO 5 packets: `40` on the first connect, `40{"pid","offset"}` on a reconnect (what
 *   socket.io-client sends); recovered when the CONNECT reply carries the previous `pid` (what
 *   socket.io-client's `socket.recovered` compares); the offset is the last argument of each
 *   broadcast event. A client that did not recover subscribes again.
 *
 * Every client counts each sequence number it got (`{"s":seq}` in the payload), so loss and
 * duplicates are exact. A dropped connection reconnects after a uniform random 0–250 ms (the same
 * rule for both servers), then with backoff.
 */
import { WebSocket } from "ws";

/** Which server the clients speak to. */
export type RecoveryDialect = "cinder" | "socketio";

const S_FIELD = Buffer.from('"s":');
const BROADCASTED = Buffer.from('"broadcasted"');
const PHX_REPLY = Buffer.from('"phx_reply"');
const SIO_EVENT_M = Buffer.from('42["m",');

/** Reads the integer after the first `"s":`, or -1. */
function readSeq(data: Buffer): number {
  const at = data.indexOf(S_FIELD);
  if (at < 0) return -1;
  let value = 0;
  let digits = 0;
  for (let i = at + S_FIELD.length; i < data.length; i++) {
    const c = data[i]!;
    if (c < 0x30 || c > 0x39) break;
    value = value * 10 + (c - 0x30);
    digits++;
  }
  return digits === 0 ? -1 : value;
}

/** One recovering subscriber. */
export class RecoveringClient {
  ws: WebSocket | null = null;
  ready = false;
  /** Counts per sequence number. */
  readonly seen: Uint8Array;
  /** Cinder position or Socket.IO offset of the last broadcast. */
  position: string | undefined;
  /** Socket.IO session id (pid). */
  pid: string | undefined;
  localPort = 0;
  /** Set when its connection dropped (the fault). */
  cutAt = 0;
  /** When its rejoin/reconnect answered, and whether it recovered. */
  rejoinedAt = 0;
  recovered: boolean | undefined;
  reconnects = 0;
  /** Connection attempts after the cut until the rejoin answered. */
  attemptsToRejoin = 0;

  constructor(readonly index: number, sequences: number) {
    this.seen = new Uint8Array(sequences);
  }
}

/** Options of a fleet. */
export interface FleetOptions {
  port: number;
  dialect: RecoveryDialect;
  topic: string;
  /** Highest sequence number + 1 that will be published. */
  sequences: number;
  batch: number;
}

/** A fleet of recovering subscribers. */
export class RecoveringFleet {
  readonly clients: RecoveringClient[] = [];
  ready = 0;
  deliveries = 0;
  lastDeliveryAt = 0;
  errors = 0;
  readonly errorSamples: string[] = [];
  private closing = false;
  private readonly heartbeat: NodeJS.Timeout;

  constructor(private readonly options: FleetOptions) {
    this.heartbeat = setInterval(() => {
      if (options.dialect !== "cinder") return;
      for (const c of this.clients) if (c.ws?.readyState === WebSocket.OPEN) c.ws.send('[null,"hb","phoenix","heartbeat",{}]');
    }, 20_000);
    this.heartbeat.unref();
  }

  /** Connects `n` clients (at most `batch` at once) and waits until all are subscribed. */
  async grow(n: number, deadline: number): Promise<void> {
    while (this.clients.length < n) {
      while (this.clients.length - this.ready >= this.options.batch) await this.tick(deadline, `${this.ready}/${n} ready`);
      const client = new RecoveringClient(this.clients.length, this.options.sequences);
      this.clients.push(client);
      this.open(client);
    }
    while (this.ready < n) await this.tick(deadline, `${this.ready}/${n} ready`);
  }

  /** Waits until `predicate` holds (polling every 20 ms), or throws at `deadline`. */
  async until(predicate: () => boolean, deadline: number, describe: () => string): Promise<void> {
    while (!predicate()) await this.tick(deadline, describe());
  }

  private async tick(deadline: number, what: string): Promise<void> {
    if (performance.now() > deadline) throw new Error(`timed out: ${what}${this.errorSamples.length > 0 ? `; errors: ${this.errorSamples.slice(0, 3).join("; ")}` : ""}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }

  /** Drops a client's connection at once (no close handshake); it reconnects like after a fault. */
  cut(client: RecoveringClient): void {
    client.ws?.terminate();
  }

  /** Closes everything; no reconnects. */
  closeAll(): void {
    this.closing = true;
    clearInterval(this.heartbeat);
    for (const c of this.clients) c.ws?.terminate();
  }

  private open(client: RecoveringClient): void {
    const { port, dialect } = this.options;
    const path = dialect === "cinder" ? "/socket/websocket?vsn=2.0.0" : "/socket.io/?EIO=4&transport=websocket";
    const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`, { perMessageDeflate: false, skipUTF8Validation: true });
    client.ws = ws;
    ws.on("open", () => {
      client.localPort = (ws as unknown as { _socket?: { localPort?: number } })._socket?.localPort ?? 0;
      if (dialect === "cinder") {
        const stream = client.position ?? true;
        ws.send(`["1","1",${JSON.stringify(`stream:${this.options.topic}`)},"phx_join",${JSON.stringify({ stream })}]`);
      } else {
        const auth = client.pid !== undefined && client.position !== undefined ? JSON.stringify({ pid: client.pid, offset: client.position }) : "";
        ws.send(`40${auth}`);
      }
    });
    ws.on("message", (data: Buffer, isBinary: boolean) => {
      if (!isBinary) this.onMessage(client, data);
    });
    ws.on("error", (error: Error) => {
      this.errors++;
      if (this.errorSamples.length < 10) this.errorSamples.push(`#${client.index}: ${error.message}`);
    });
    ws.on("close", () => {
      if (this.closing || client.ws !== ws) return;
      if (client.ready) {
        client.ready = false;
        this.ready--;
      }
      client.ws = null;
      if (client.cutAt === 0) client.cutAt = performance.now();
      const delay = client.reconnects === 0 ? Math.random() * 250 : Math.min(2_000, 100 * 2 ** client.reconnects);
      client.reconnects++;
      setTimeout(() => { if (!this.closing) this.open(client); }, delay);
    });
  }

  private markReady(client: RecoveringClient, recovered: boolean | undefined): void {
    if (client.cutAt > 0 && client.rejoinedAt === 0) {
      client.rejoinedAt = performance.now();
      client.recovered = recovered;
      client.attemptsToRejoin = client.reconnects;
    }
    if (!client.ready) {
      client.ready = true;
      this.ready++;
    }
  }

  private deliver(client: RecoveringClient, data: Buffer): void {
    const seq = readSeq(data);
    if (seq < 0 || seq >= client.seen.length) return;
    if (client.seen[seq]! < 255) client.seen[seq]!++;
    this.deliveries++;
    this.lastDeliveryAt = performance.now();
  }

  private onMessage(client: RecoveringClient, data: Buffer): void {
    if (this.options.dialect === "cinder") {
      if (data[0] !== 0x5b) return;
      if (data[1] === 0x6e /* n */ && data.indexOf(BROADCASTED) > 0) {
        // [null,"<epoch>:<offset>","stream:…","broadcasted",{…}]
        if (data[5] === 0x2c && data[6] === 0x22) {
          const end = data.indexOf(0x22, 7);
          if (end > 7) client.position = data.toString("latin1", 7, end);
        }
        this.deliver(client, data);
        return;
      }
      if (data[1] === 0x22 && data.indexOf(PHX_REPLY) > 0) {
        const reply = JSON.parse(data.toString("utf8")) as [string, string, string, string, { status: string; response?: { stream?: { position?: string | null; recovered?: boolean } } }];
        const body = reply[4];
        if (body.status !== "ok") {
          this.errors++;
          if (this.errorSamples.length < 10) this.errorSamples.push(`#${client.index}: join refused ${JSON.stringify(body)}`);
          return;
        }
        const stream = body.response?.stream;
        // Where the reply leaves the client: the replay and live broadcasts continue from it.
        if (typeof stream?.position === "string") client.position = stream.position;
        this.markReady(client, stream?.recovered);
      }
      return;
    }
    // Socket.IO
    const first = data[0];
    if (first === 0x32 /* 2: ping */ && data.length === 1) {
      client.ws?.send("3");
      return;
    }
    if (first !== 0x34) return;
    const second = data[1];
    if (second === 0x32 && data.compare(SIO_EVENT_M, 0, SIO_EVENT_M.length, 0, SIO_EVENT_M.length) === 0) {
      // 42["m",{…},"<offset>"]
      const end = data.length - 2; // before "]
      const start = data.lastIndexOf(0x22, end - 1);
      if (data[end] === 0x22 && start > 0) client.position = data.toString("latin1", start + 1, end);
      this.deliver(client, data);
      return;
    }
    if (second === 0x30 /* 40{sid,pid} */) {
      const answer = JSON.parse(data.toString("utf8", 2)) as { sid?: string; pid?: string };
      const recovered = client.pid !== undefined && answer.pid === client.pid;
      client.pid = answer.pid;
      if (recovered) this.markReady(client, true);
      else {
        if (client.cutAt > 0 && client.rejoinedAt === 0) {
          client.rejoinedAt = performance.now();
          client.recovered = false;
          client.attemptsToRejoin = client.reconnects;
        }
        client.ws?.send(`420["sub",${JSON.stringify(this.options.topic)}]`);
      }
      return;
    }
    if (second === 0x33 /* 43<id>[…]: the sub ack */) this.markReady(client, client.recovered);
  }
}
