/**
 * Server WebSocket frames built once and shared: a server frame is unmasked, so the same bytes
 * (header + payload) go to every connection. Further writes to one connection within a tick are
 * corked together and flushed as one `writev`.
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
 * Writes to one socket. The first frame of a tick goes out at once (the common case when each
 * connection gets one frame per broadcast); further frames in the same tick are corked and leave
 * together as one `writev` at the end of the tick.
 */
export class CorkedWriter implements Corked {
  private active = false;
  private corked = false;

  /** `afterFlush` runs at the end of each tick this writer wrote in (e.g. to check how much is unsent). */
  constructor(private readonly socket: Socket, private readonly afterFlush: () => void) {}

  /** Writes `data`, or queues it for this tick's single write. */
  write(data: Buffer): void {
    if (!this.active) {
      this.active = true;
      if (pending.length === 0) process.nextTick(uncorkAll);
      pending.push(this);
    } else if (!this.corked) {
      this.corked = true;
      this.socket.cork();
    }
    this.socket.write(data);
  }

  /** Flushes what this tick queued. */
  uncork(): void {
    this.active = false;
    if (this.corked) {
      this.corked = false;
      this.socket.uncork();
    }
    this.afterFlush();
  }
}
