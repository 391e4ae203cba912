/** The errors of the promise API (`channel.call`, `channel.joined`, `push.toPromise`). */

/** A push (or join) answered with a status other than "ok"; `status` and `response` are the server's. */
export class PushError<R = unknown> extends Error {
  override readonly name = "PushError";

  constructor(
    /** The topic of the channel. */
    readonly topic: string,
    /** The event pushed (`phx_join` for a join). */
    readonly event: string,
    /** The reply status, e.g. "error". */
    readonly status: string,
    /** The reply's response. */
    readonly response: R,
  ) {
    super(`${event} on ${topic} was answered with status "${status}"`);
  }
}

/** A push (or join) that got no reply within its timeout. */
export class PushTimeout extends Error {
  override readonly name = "PushTimeout";

  constructor(
    /** The topic of the channel. */
    readonly topic: string,
    /** The event pushed (`phx_join` for a join). */
    readonly event: string,
    /** The timeout that elapsed, in ms. */
    readonly timeout: number,
  ) {
    super(`${event} on ${topic} got no reply within ${timeout} ms`);
  }
}

/** A join awaited with `channel.joined()` that can no longer succeed: the channel was left or closed. */
export class ChannelClosedError extends Error {
  override readonly name = "ChannelClosedError";

  constructor(readonly topic: string) {
    super(`channel ${topic} was closed`);
  }
}
