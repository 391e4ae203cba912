/**
 * `Channel`: one topic joined over a socket. States closed → joining → joined, errored (rejoins
 * with backoff) and leaving; pushes are buffered (their timeouts running) until joined;
 * messages carrying a stale join_ref are dropped. Typed by an optional channel contract.
 */
import { RetryTimer } from "./backoff.js";
import { CHANNEL_EVENTS, type ChannelState } from "./constants.js";
import type {
  AnyContract, ChannelContract, EventName, IncomingEvent, IncomingPayload, PushArgs, ReplyPayload,
} from "./contract.js";
import { isBinaryPayload, utf8Encode } from "./encoding.js";
import { ChannelClosedError, PushError, PushTimeout } from "./errors.js";
import { Push, type PushHost } from "./push.js";
import type { Socket } from "./socket.js";
import { StreamFollower, type StreamGap, type StreamOptions } from "./stream.js";

/** A callback bound with `channel.on`: the payload, the message ref and its join_ref. */
export type BindingCallback<P = unknown> = (payload: P, ref: string | null | undefined, joinRef: string | null) => void;

/** Why a channel errored: the server's `phx_error` payload, or `{source: "transport", reason}`. */
export type ChannelErrorReason = unknown;

interface Binding {
  readonly event: string;
  readonly ref: number;
  readonly callback: BindingCallback;
}

interface JoinWaiter {
  resolve(response: unknown): void;
  reject(error: Error): void;
}

/** Refuses binary payloads whose topic or event cannot go in a binary frame. */
function checkBinaryFields(topic: string, event: string): void {
  if (utf8Encode(topic).length > 255) throw new RangeError(`topic "${topic.slice(0, 40)}…" is longer than 255 bytes: binary pushes need a shorter one`);
  if (utf8Encode(event).length > 255) throw new RangeError(`event "${event.slice(0, 40)}…" is longer than 255 bytes: binary pushes need a shorter one`);
}

/** A channel on a topic. `C` (a server channel definition's type) types pushes, replies and events. */
export class Channel<C extends ChannelContract = AnyContract> {
  /** The topic, e.g. `"room:lobby"`. */
  readonly topic: string;
  /** The socket the channel belongs to. */
  readonly socket: Socket;
  /** The join params, computed again on every (re)join. */
  params: () => unknown;
  /** Default timeout of this channel's join, pushes and leave, in ms. */
  timeout: number;
  /** The join push; its ref is the channel's join_ref. */
  readonly joinPush: Push<unknown>;
  /** The socket callback refs this channel registered (removed with the channel). */
  readonly stateChangeRefs: string[] = [];
  #state: ChannelState = "closed";
  #bindings: Binding[] = [];
  #bindingRef = 0;
  #joinedOnce = false;
  #pushBuffer: Push<unknown>[] = [];
  readonly #replies = new Map<string, Push<unknown>>();
  readonly #rejoinTimer: RetryTimer;
  readonly #host: PushHost;
  #joinResponse: unknown = undefined;
  #joinWaiters: JoinWaiter[] = [];
  #stream: StreamFollower | undefined;

  /** Use `socket.channel(topic, params)` rather than this constructor. */
  constructor(topic: string, params: unknown, socket: Socket) {
    this.topic = topic;
    this.socket = socket;
    this.params = typeof params === "function" ? (params as () => unknown) : () => params ?? {};
    this.timeout = socket.timeout;
    this.#host = {
      topic,
      joinRef: () => this.joinRef(),
      makeRef: () => socket.makeRef(),
      sendMessage: (message) => socket.push(message, this),
      awaitReply: (ref, push) => { this.#replies.set(ref, push); },
      cancelReply: (ref) => { this.#replies.delete(ref); },
    };
    this.joinPush = new Push(this.#host, CHANNEL_EVENTS.join, () => this.#joinParams(), this.timeout);
    this.#rejoinTimer = new RetryTimer(() => {
      if (this.socket.isConnected()) this.rejoin();
    }, (tries) => this.socket.rejoinAfterMs(tries));

    this.stateChangeRefs.push(socket.onError(() => this.#rejoinTimer.reset()));
    this.stateChangeRefs.push(socket.onOpen(() => {
      this.#rejoinTimer.reset();
      if (this.isErrored()) this.rejoin();
    }));

    this.joinPush.receive("ok", (response) => {
      this.#stream?.joined(response);
      this.#state = "joined";
      this.#rejoinTimer.reset();
      this.#joinResponse = response;
      const buffered = this.#pushBuffer;
      this.#pushBuffer = [];
      for (const push of buffered) push.send();
      this.#settleJoinWaiters((w) => w.resolve(response));
    });
    this.joinPush.receive("error", (response) => {
      this.#state = "errored";
      if (this.socket.isConnected()) this.#rejoinTimer.schedule();
      this.#settleJoinWaiters((w) => w.reject(new PushError(this.topic, CHANNEL_EVENTS.join, "error", response)));
    });
    this.joinPush.receive("timeout", () => {
      this.#log("channel", `timeout ${this.topic} (${String(this.joinRef())})`, this.joinPush.timeout);
      const leavePush = new Push(this.#host, CHANNEL_EVENTS.leave, () => ({}), this.timeout);
      leavePush.send();
      this.#state = "errored";
      const timeout = this.joinPush.timeout;
      this.joinPush.reset();
      if (this.socket.isConnected()) this.#rejoinTimer.schedule();
      this.#settleJoinWaiters((w) => w.reject(new PushTimeout(this.topic, CHANNEL_EVENTS.join, timeout)));
    });
    this.listen(CHANNEL_EVENTS.close, () => {
      this.#rejoinTimer.reset();
      this.#log("channel", `close ${this.topic} ${String(this.joinRef())}`);
      this.#state = "closed";
      this.socket.remove(this);
      this.#settleJoinWaiters((w) => w.reject(new ChannelClosedError(this.topic)));
    });
    this.listen(CHANNEL_EVENTS.error, (reason) => {
      this.#log("channel", `error ${this.topic}`, reason);
      if (this.isJoining()) this.joinPush.reset();
      this.#state = "errored";
      if (this.socket.isConnected()) this.#rejoinTimer.schedule();
    });
    this.listen(CHANNEL_EVENTS.reply, (payload, ref) => {
      if (typeof ref === "string") this.#replies.get(ref)?.handleReply(payload);
    });
  }

  /**
   * Follows the topic's stream (a server channel with `history`): every rejoin asks the server
   * for what was missed since the last position seen, duplicates are dropped, and (with
   * `detectGaps`) a position that jumps while connected triggers a rejoin that recovers it. Call before `join()`; the
   * join params must be an object (a `stream` key is added). See `position`, `recovered`, `onGap`.
   */
  useStream(options: StreamOptions = {}): this {
    if (this.#joinedOnce) throw new Error("useStream() must be called before join()");
    this.#stream = new StreamFollower(options);
    return this;
  }

  /** The last stream position seen (`"<epoch>:<offset>"`), or null; see `useStream`. */
  get position(): string | null {
    return this.#stream?.position ?? null;
  }

  /** Whether the last join replayed everything missed (undefined before a join or without `useStream`). */
  get recovered(): boolean | undefined {
    return this.#stream?.recovered;
  }

  /** Calls `callback` when publications may have been missed (the app may refetch); see `useStream`. */
  onGap(callback: (gap: StreamGap) => void): void {
    if (this.#stream === undefined) throw new Error("onGap() needs useStream() first");
    this.#stream.onGap(callback);
  }

  #joinParams(): unknown {
    const params = this.params();
    if (this.#stream === undefined) return params;
    if (typeof params !== "object" || params === null || Array.isArray(params)) {
      throw new TypeError("a channel that follows a stream needs object join params");
    }
    return { ...(params as Record<string, unknown>), stream: this.#stream.joinParam() };
  }

  /** The channel's state: "closed", "joining", "joined", "errored" or "leaving". */
  get state(): ChannelState {
    return this.#state;
  }

  /**
   * Joins the topic (once per Channel object; rejoins are automatic) and returns the join push:
   * `channel.join().receive("ok", ...).receive("error", ...)`. Rejected joins are retried with
   * the rejoin backoff until `leave()`.
   */
  join(timeout: number = this.timeout): Push<unknown> {
    if (this.#joinedOnce) {
      throw new Error("tried to join multiple times. 'join' can only be called a single time per channel instance");
    }
    this.timeout = timeout;
    this.#joinedOnce = true;
    this.rejoin();
    return this.joinPush;
  }

  /**
   * The promise form of the join: joins if `join()` was not called yet, then resolves with the
   * join response once joined (at once if joined already). Rejects with `PushError` (join
   * refused), `PushTimeout` or `ChannelClosedError` on the next failed attempt — the channel
   * itself keeps retrying in the background, as with `join()`, until you call `leave()`.
   */
  joined(timeout?: number): Promise<unknown> {
    if (this.#state === "joined") return Promise.resolve(this.#joinResponse);
    if (!this.#joinedOnce) {
      this.join(timeout ?? this.timeout);
    } else if (this.#state === "closed" || this.#state === "leaving") {
      return Promise.reject(new ChannelClosedError(this.topic));
    }
    return new Promise((resolve, reject) => this.#joinWaiters.push({ resolve, reject }));
  }

  /** Calls `callback` when the channel closes (left, or closed by the server). Returns a binding ref. */
  onClose(callback: (reason: unknown) => void): number {
    return this.listen(CHANNEL_EVENTS.close, (payload) => callback(payload));
  }

  /** Calls `callback` when the channel errors (server crash, transport loss). Returns a binding ref. */
  onError(callback: (reason: ChannelErrorReason) => void): number {
    return this.listen(CHANNEL_EVENTS.error, (reason) => callback(reason));
  }

  /** Subscribes to an event pushed or broadcast on the topic; returns a ref for `off`. */
  on<E extends IncomingEvent<C>>(event: E, callback: BindingCallback<IncomingPayload<C, E>>): number {
    return this.listen(event, callback as BindingCallback);
  }

  /**
   * Subscribes to any event with an untyped callback (what `on` does, for internal users).
   * @internal
   */
  listen(event: string, callback: BindingCallback): number {
    const ref = this.#bindingRef++;
    this.#bindings.push({ event, ref, callback });
    return ref;
  }

  /** Unsubscribes the binding `ref` of `event`, or every binding of `event` when no ref is given. */
  off(event: string, ref?: number): void {
    this.#bindings = this.#bindings.filter((b) => !(b.event === event && (ref === undefined || ref === b.ref)));
  }

  /** True when a push would be sent right away (socket connected and channel joined). */
  canPush(): boolean {
    return this.socket.isConnected() && this.isJoined();
  }

  /**
   * Pushes an event (payload: JSON, or an `ArrayBuffer`/typed array sent as a binary frame).
   * Before the channel is joined the push is buffered, its timeout already running. Throws
   * before `join()` was called.
   */
  push<E extends EventName<C>>(event: E, ...args: PushArgs<C, E>): Push<ReplyPayload<C, E>> {
    const [payload, timeout = this.timeout] = args as [unknown, number | undefined];
    if (!this.#joinedOnce) {
      throw new Error(`tried to push '${event}' to '${this.topic}' before joining. Use channel.join() before pushing events`);
    }
    const body = payload ?? {};
    if (isBinaryPayload(body)) checkBinaryFields(this.topic, event);
    const push = new Push<ReplyPayload<C, E>>(this.#host, event, () => body, timeout);
    if (this.canPush()) {
      push.send();
    } else {
      push.startTimeout();
      this.#pushBuffer.push(push as Push<unknown>);
    }
    return push;
  }

  /**
   * Pushes and awaits the reply: resolves with the "ok" response, rejects with `PushError`
   * (`status`, `response`) for any other status or `PushTimeout` when no reply came in time.
   */
  call<E extends EventName<C>>(event: E, ...args: PushArgs<C, E>): Promise<ReplyPayload<C, E>> {
    try {
      return this.push(event, ...args).toPromise();
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  /**
   * Leaves the topic: state "leaving", sends `phx_leave`, and closes the channel (`onClose` with
   * "leave") on the reply or on timeout — at once when the leave cannot be sent.
   */
  leave(timeout: number = this.timeout): Push<unknown> {
    this.#rejoinTimer.reset();
    this.joinPush.cancelTimeout();
    this.#state = "leaving";
    const onClose = (): void => {
      this.#log("channel", `leave ${this.topic}`);
      this.trigger(CHANNEL_EVENTS.close, "leave");
    };
    const leavePush = new Push(this.#host, CHANNEL_EVENTS.leave, () => ({}), timeout);
    leavePush.receive("ok", onClose).receive("timeout", onClose);
    leavePush.send();
    if (!this.canPush()) leavePush.trigger("ok", {});
    return leavePush;
  }

  /**
   * A hook every incoming message passes through before its bindings: override it to transform
   * payloads. It must return the payload (modified or not).
   */
  onMessage(_event: string, payload: unknown, _ref?: string | null, _joinRef?: string | null): unknown {
    return payload;
  }

  /** True when a message for `topic` with this join_ref belongs to this channel (stale join_refs are dropped). */
  isMember(topic: string, event: string, payload: unknown, joinRef: string | null): boolean {
    if (this.topic !== topic) return false;
    if (joinRef && joinRef !== this.joinRef()) {
      this.#log("channel", "dropping outdated message", { topic, event, payload, joinRef });
      return false;
    }
    return true;
  }

  /** The join_ref of the current join (the join push's ref), or null. */
  joinRef(): string | null {
    return this.joinPush.ref;
  }

  /** Sends the join again with a new ref, first leaving any other channel joined on the same topic. */
  rejoin(timeout: number = this.timeout): void {
    if (this.isLeaving()) return;
    this.socket.leaveOpenTopic(this.topic);
    this.#state = "joining";
    this.joinPush.resend(timeout);
  }

  /** Dispatches an incoming event to this channel's bindings. */
  trigger(event: string, payload: unknown, ref?: string | null, joinRef?: string | null): void {
    if (this.#stream !== undefined && typeof ref === "string" && !event.startsWith("phx_")) {
      const verdict = this.#stream.receive(ref);
      if (verdict === "duplicate") return;
      if (verdict === "recover") {
        // Not delivered now: the rejoin from our position replays it, in order, after the missing
        // ones. (Marked errored first, so the rejoin replaces this join instead of leaving it.)
        if (this.isJoined()) {
          this.#state = "errored";
          this.rejoin();
        }
        return;
      }
    }
    const handled = this.onMessage(event, payload, ref, joinRef);
    if (payload && !handled) throw new Error("channel onMessage callbacks must return the payload, modified or unmodified");
    const bindings = this.#bindings.filter((b) => b.event === event);
    for (const binding of bindings) binding.callback(handled, ref, joinRef || this.joinRef());
  }

  /** True in state "closed". */
  isClosed(): boolean { return this.#state === "closed"; }
  /** True in state "errored". */
  isErrored(): boolean { return this.#state === "errored"; }
  /** True in state "joined". */
  isJoined(): boolean { return this.#state === "joined"; }
  /** True in state "joining". */
  isJoining(): boolean { return this.#state === "joining"; }
  /** True in state "leaving". */
  isLeaving(): boolean { return this.#state === "leaving"; }

  #settleJoinWaiters(settle: (waiter: JoinWaiter) => void): void {
    const waiters = this.#joinWaiters;
    this.#joinWaiters = [];
    for (const waiter of waiters) settle(waiter);
  }

  #log(kind: string, msg: string, data?: unknown): void {
    if (this.socket.hasLogger()) this.socket.log(kind, msg, data);
  }
}
