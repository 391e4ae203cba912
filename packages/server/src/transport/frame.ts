/**
 * Writes of prebuilt WebSocket frames (`Frame.wire`) to one TCP socket: further writes to one
 * connection within a tick are corked together and flushed as one `writev`.
 */
import type { Socket } from "node:net";

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
