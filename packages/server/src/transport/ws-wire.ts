/**
 * How frames reach a `ws` connection: the one place that reaches under `ws`'s public API.
 *
 * The direct wire writes prebuilt frames (`Frame.chunks`, built once per message and shared by
 * every connection; a large shared payload stays one buffer that every frame around it points to)
 * straight to the TCP socket `ws` wraps, which it keeps in the private field
 * `_socket`, corking the writes of one tick into one `writev`. That is safe only while `ws`
 * writes each of its own frames (pongs, close) synchronously to that same socket, in call order:
 * true for `ws` 8 without extensions (permessage-deflate is off on Cinder's server). So the first
 * connection is checked (`checkDirectWrite`): if `_socket` is not a `net.Socket`, is not the one
 * `ws`'s sender writes to, or an extension was negotiated, Cinder logs once and falls back to
 * `ws.send` (the send wire) for every connection; a later connection that fails the check falls
 * back on its own. Both wires report how much they hold unsent past the kernel, and when that has
 * drained, so the caller can hold further frames itself (see `websocket.ts`).
 */
import { Socket } from "node:net";
import type { WebSocket } from "ws";
import type { Logger } from "../logger.js";
import type { Frame } from "../serializer/index.js";

/** What `ws` keeps privately and the direct wire relies on. */
interface WsInternals {
  _socket?: unknown;
  _sender?: { _socket?: unknown };
}

/** The socket to write to directly, or why `ws`'s internals are not as the direct wire expects. */
export type DirectWriteCheck = { ok: true; socket: Socket } | { ok: false; reason: string };

/** Checks that `ws` writes its frames to a `net.Socket` the direct wire may write to as well. */
export function checkDirectWrite(ws: WebSocket): DirectWriteCheck {
  const internals = ws as unknown as WsInternals;
  const socket = internals._socket;
  if (!(socket instanceof Socket)) return { ok: false, reason: "ws has no net.Socket in _socket" };
  if (internals._sender?._socket !== socket) return { ok: false, reason: "ws's sender does not write to _socket" };
  if (ws.extensions !== "") return { ok: false, reason: `extensions negotiated (${ws.extensions})` };
  return { ok: true, socket };
}

/** A connection's way of writing frames. */
export interface Wire {
  /** "direct" (prebuilt frames on the TCP socket) or "send" (`ws.send`). */
  readonly mode: "direct" | "send";
  /** Writes one frame. */
  write(frame: Frame): void;
  /** Unsent bytes held in Node.js and `ws` for this connection (not counting the kernel's buffer). */
  readonly unsent: number;
  /** The socket's buffer mark: past it, a caller should wait for `onDrain` before writing more. */
  readonly mark: number;
  /** Calls `callback` once, when what was written has left for the kernel. */
  onDrain(callback: () => void): void;
}

/** Something corked during this tick, to be uncorked at its end. */
interface Corked {
  uncork(): void;
}

let pending: Corked[] = [];

function uncorkAll(): void {
  const batch = pending;
  pending = [];
  for (const writer of batch) writer.uncork();
}

/**
 * Prebuilt frames on the TCP socket. The first frame of a tick goes out at once (the common case
 * when each connection gets one frame per broadcast); further frames in the same tick are corked
 * and leave together as one `writev` at the end of the tick, after which `afterFlush` runs.
 */
class DirectWire implements Wire, Corked {
  readonly mode = "direct";
  private active = false;
  private corked = false;

  constructor(private readonly socket: Socket, private readonly afterFlush: () => void) {}

  write(frame: Frame): void {
    const chunks = frame.chunks;
    if (!this.active) {
      this.active = true;
      if (pending.length === 0) process.nextTick(uncorkAll);
      pending.push(this);
      // A frame of several chunks (a shared payload between its head and tail) leaves as one writev.
      if (chunks.length > 1) this.corkNow();
    } else {
      this.corkNow();
    }
    for (const chunk of chunks) this.socket.write(chunk);
  }

  private corkNow(): void {
    if (this.corked) return;
    this.corked = true;
    this.socket.cork();
  }

  get unsent(): number {
    return this.socket.writableLength;
  }

  get mark(): number {
    return this.socket.writableHighWaterMark;
  }

  onDrain(callback: () => void): void {
    // "drain" comes only after a write found the buffer over its mark.
    if (this.socket.writableNeedDrain) this.socket.once("drain", callback);
    else process.nextTick(callback);
  }

  uncork(): void {
    this.active = false;
    if (this.corked) {
      this.corked = false;
      this.socket.uncork();
    }
    this.afterFlush();
  }
}

const TEXT = { binary: false } as const;
const BINARY = { binary: true } as const;

/**
 * `ws.send`, through `ws`'s public API only. Each send carries a completion callback, so the wire
 * knows when everything it wrote has left for the kernel.
 */
class SendWire implements Wire {
  readonly mode = "send";
  private inFlight = 0;
  private drained: (() => void) | undefined;
  private readonly sent = (): void => {
    if (--this.inFlight > 0 || this.drained === undefined) return;
    const callback = this.drained;
    this.drained = undefined;
    callback();
  };

  constructor(private readonly ws: WebSocket, private readonly afterWrite: () => void) {}

  write(frame: Frame): void {
    this.inFlight++;
    this.ws.send(frame.bytes, frame.binary ? BINARY : TEXT, this.sent);
    this.afterWrite();
  }

  get unsent(): number {
    return this.ws.bufferedAmount;
  }

  get mark(): number {
    return 16 * 1024;  // Node.js's default for a socket; ws does not expose its socket's
  }

  onDrain(callback: () => void): void {
    if (this.inFlight === 0) queueMicrotask(callback);
    else this.drained = callback;
  }
}

/** Chooses each connection's wire; the direct wire is checked on the first connection. */
export class WireFactory {
  private verdict: "direct" | "send" | undefined;
  private logged = false;

  /** `direct: false` always uses `ws.send`. */
  constructor(private readonly direct: boolean, private readonly logger: Logger) {
    if (!direct) this.verdict = "send";
  }

  /**
   * The wire of `ws`. `afterFlush` runs after each batch the connection wrote (at the end of the
   * tick on the direct wire, after each send on the send wire), to check how much is unsent.
   */
  open(ws: WebSocket, afterFlush: () => void): Wire {
    if (this.verdict !== "send") {
      const check = checkDirectWrite(ws);
      if (check.ok) {
        this.verdict = "direct";
        return new DirectWire(check.socket, afterFlush);
      }
      if (!this.logged) {
        this.logged = true;
        this.logger.warn({ reason: check.reason }, this.verdict === undefined
          ? "ws internals are not as expected; writing with ws.send on every connection"
          : "ws internals are not as expected on a connection; writing with ws.send where they are not");
      }
      this.verdict ??= "send";
    }
    return new SendWire(ws, afterFlush);
  }
}
