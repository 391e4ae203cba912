/**
 * `Push`: one message sent on a channel (a push, a join or a leave) and its reply. Replies are
 * matched by ref; `receive(status, cb)` registers a callback per status ("ok", "error", any
 * custom status, or the locally synthesized "timeout"); `toPromise()` is the promise form.
 */
import { PushError, PushTimeout } from "./errors.js";
import type { Message } from "./types.js";

/** A reply as it arrives in a `phx_reply` payload. */
export interface Reply<R = unknown> {
  readonly status: string;
  readonly response: R;
}

/**
 * What a push needs from its channel.
 * @internal
 */
export interface PushHost {
  readonly topic: string;
  joinRef(): string | null;
  makeRef(): string;
  sendMessage(message: Message): void;
  awaitReply(ref: string, push: Push<unknown>): void;
  cancelReply(ref: string): void;
}

/** Reads `{status, response}` from a reply payload, tolerating malformed ones. */
function asReply(payload: unknown): Reply {
  if (typeof payload === "object" && payload !== null && "status" in payload) {
    const { status, response } = payload as { status: unknown; response?: unknown };
    return { status: String(status), response };
  }
  return { status: "error", response: payload };
}

/** A message pushed on a channel, awaiting its reply. `R` is the type of the "ok" response. */
export class Push<R = unknown> {
  /** The ref of the last send (a join's ref is the channel's join_ref), or null before sending. */
  ref: string | null = null;
  /** The reply timeout in ms. */
  timeout: number;
  /** True once sent (or handed to the socket's buffer). */
  sent = false;
  readonly #host: PushHost;
  readonly #payload: () => unknown;
  #received: Reply | null = null;
  #awaiting = false;
  readonly #hooks: Array<{ status: string; callback: (response: never) => void }> = [];
  #outcomeListeners: Array<(reply: Reply) => void> = [];
  #timer: ReturnType<typeof setTimeout> | undefined;

  /** @internal */
  constructor(host: PushHost, readonly event: string, payload: () => unknown, timeout: number) {
    this.#host = host;
    this.#payload = payload;
    this.timeout = timeout;
  }

  /** Sends again with a new ref (rejoins). */
  resend(timeout: number): void {
    this.timeout = timeout;
    this.reset();
    this.send();
  }

  /** Sends the message (unless it already timed out) and starts its timeout. */
  send(): void {
    if (this.hasReceived("timeout")) return;
    this.startTimeout();
    this.sent = true;
    this.#host.sendMessage({
      topic: this.#host.topic,
      event: this.event,
      payload: this.#payload(),
      ref: this.ref,
      join_ref: this.#host.joinRef(),
    });
  }

  /**
   * Calls `callback` with the response when the reply has this status — at once if it already
   * has. "timeout" fires when no reply came within the timeout. Returns the push for chaining.
   */
  receive(status: "ok", callback: (response: R) => void): this;
  receive(status: string, callback: (response: unknown) => void): this;
  receive(status: string, callback: (response: never) => void): this {
    if (this.#received !== null && this.#received.status === status) {
      (callback as (response: unknown) => void)(this.#received.response);
    }
    this.#hooks.push({ status, callback });
    return this;
  }

  /**
   * Resolves with the "ok" response of the next reply (or the one already received); rejects with
   * `PushError` for any other status, `PushTimeout` when no reply came in time.
   */
  toPromise(): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      const settle = ({ status, response }: Reply): void => {
        if (status === "ok") resolve(response as R);
        else if (status === "timeout") reject(new PushTimeout(this.#host.topic, this.event, this.timeout));
        else reject(new PushError(this.#host.topic, this.event, status, response));
      };
      if (this.#received !== null) settle(this.#received);
      else this.#outcomeListeners.push(settle);
    });
  }

  /** Forgets the ref and the reply (before a resend). Callbacks stay registered. */
  reset(): void {
    this.#cancelRefEvent();
    this.ref = null;
    this.#received = null;
    this.sent = false;
  }

  /** Stops the timeout timer. */
  cancelTimeout(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Takes a new ref, starts waiting for its reply and (re)starts the timeout. */
  startTimeout(): void {
    this.cancelTimeout();
    this.#cancelRefEvent();
    const ref = this.#host.makeRef();
    this.ref = ref;
    this.#awaiting = true;
    this.#host.awaitReply(ref, this as Push<unknown>);
    this.#timer = setTimeout(() => this.trigger("timeout", {}), this.timeout);
  }

  /** True when the reply received has this status. */
  hasReceived(status: string): boolean {
    return this.#received !== null && this.#received.status === status;
  }

  /** Settles the push as if `{status, response}` had arrived (if it is still awaiting a reply). */
  trigger(status: string, response: unknown): void {
    this.#settle({ status, response });
  }

  /**
   * Handles a `phx_reply` payload for this push's ref.
   * @internal
   */
  handleReply(payload: unknown): void {
    this.#settle(asReply(payload));
  }

  #settle(reply: Reply): void {
    if (!this.#awaiting) return;
    this.#cancelRefEvent();
    this.cancelTimeout();
    this.#received = reply;
    for (const hook of this.#hooks.filter((h) => h.status === reply.status)) {
      (hook.callback as (response: unknown) => void)(reply.response);
    }
    const listeners = this.#outcomeListeners;
    this.#outcomeListeners = [];
    for (const listener of listeners) listener(reply);
  }

  #cancelRefEvent(): void {
    if (this.#awaiting && this.ref !== null) this.#host.cancelReply(this.ref);
    this.#awaiting = false;
  }
}
