/**
 * Pushes that survive a lost connection: while the channel cannot take a push (offline, or
 * rejoining) it waits here, shown as pending by the page; `flush()` (called when the channel
 * has joined again) sends what waited. A push the server refuses or does not answer is
 * reported as failed, so the page can offer a retry — nothing typed is ever silently lost.
 */
import { replyError, TIMEOUT_MESSAGE } from "./channels.js";

/** The part of a push the outbox needs. */
export interface PushLike {
  receive(status: string, callback: (response: unknown) => void): PushLike;
}

/** One thing to send, with what to do when it is settled. */
export interface Outgoing {
  /** Pushes it (called once the channel can take it). */
  send(): PushLike;
  /** The server accepted it. */
  sent(): void;
  /** The server refused it, or did not answer in time: a readable reason. */
  failed(message: string): void;
}

/** A queue of pushes waiting for the channel to be joined. */
export class Outbox {
  readonly #waiting: Outgoing[] = [];
  readonly #canSend: () => boolean;

  /** `canSend` says whether a push would go out now (e.g. `() => channel.canPush()`). */
  constructor(canSend: () => boolean) {
    this.#canSend = canSend;
  }

  /** How many pushes are waiting. */
  get size(): number {
    return this.#waiting.length;
  }

  /** Sends `item` now if the channel can take it, else keeps it until `flush()`. */
  submit(item: Outgoing): void {
    if (this.#canSend()) this.#send(item);
    else this.#waiting.push(item);
  }

  /** Sends everything that waited (in order), if the channel can take it now. */
  flush(): void {
    if (!this.#canSend()) return;
    for (const item of this.#waiting.splice(0)) this.#send(item);
  }

  #send(item: Outgoing): void {
    item.send()
      .receive("ok", () => item.sent())
      .receive("error", (response) => item.failed(replyError(response, "The server refused it.")))
      .receive("timeout", () => item.failed(TIMEOUT_MESSAGE));
  }
}
