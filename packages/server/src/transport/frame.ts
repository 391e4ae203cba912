/**
 * Server WebSocket frames built once and shared: a server frame is unmasked, so the same bytes
 * (header + payload) go to every connection. Writes to one connection within a tick are corked
 * together and flushed as one `writev`.
 */
import type { Socket } from "node:net";

const OPCODE_TEXT = 0x1;
const OPCODE_BINARY = 0x2;

/** A complete, unmasked, final WebSocket frame carrying `payload`. */
export function websocketFrame(payload: Buffer, binary: boolean): Buffer {
  const length = payload.length;
  const headerLength = length < 126 ? 2 : length < 65_536 ? 4 : 10;
  const frame = Buffer.allocUnsafe(headerLength + length);
  frame[0] = 0x80 | (binary ? OPCODE_BINARY : OPCODE_TEXT);
  if (length < 126) {
    frame[1] = length;
  } else if (length < 65_536) {
    frame[1] = 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 127;
    frame.writeUInt32BE(Math.floor(length / 2 ** 32), 2);
    frame.writeUInt32BE(length >>> 0, 6);
  }
  payload.copy(frame, headerLength);
  return frame;
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
 * Writes to one socket, corking it for the rest of the tick on the first write, so every frame
 * for this connection in the tick leaves in a single `writev`.
 */
export class CorkedWriter implements Corked {
  private corked = false;

  /** `afterFlush` runs after each tick's flush (e.g. to check how much is still unsent). */
  constructor(private readonly socket: Socket, private readonly afterFlush: () => void) {}

  /** Queues `data` for this tick's write. */
  write(data: Buffer): void {
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      if (pending.length === 0) process.nextTick(uncorkAll);
      pending.push(this);
    }
    this.socket.write(data);
  }

  /** Flushes what this tick queued. */
  uncork(): void {
    this.corked = false;
    this.socket.uncork();
    this.afterFlush();
  }
}
