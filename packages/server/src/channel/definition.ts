/**
 * How a channel is declared: `defineChannel({ join, handleIn, handleOut, handleInfo,
 * terminate, intercept, events })`, and the results its callbacks return (`ok`, `error`,
 * `reply`, `noreply`, `stop`). A definition is declared once and instantiated per join; each
 * instance has its own assigns and processes one message at a time.
 *
 * Typed channels declare `events`: a Standard Schema (zod, valibot, ...) per event. Payloads
 * are validated before they reach `handleIn`, whose `(event, payload)` pair is then typed per
 * event; undeclared events get an error reply.
 */
import type { StandardSchemaV1 } from "@standard-schema/spec";
import type { PubSub } from "../pubsub/index.js";
import type { StreamLimits } from "../history/index.js";

/** Per-connection / per-channel state set by `connect` and by channels. */
export type Assigns = Record<string, unknown>;

/** A Standard Schema per event name. */
export type EventSchemas = Record<string, StandardSchemaV1>;

/** No events declared: `handleIn` receives any event with an `unknown` payload. */
export type NoEvents = Record<never, never>;

/** A reply to a client push (or to a join): a status string and a response. */
export interface ReplyResult<S extends string = string, R = unknown> {
  readonly kind: "reply";
  readonly status: S;
  readonly response: R;
}

/**
 * Stops the channel. `"normal"`, `"shutdown"` and `"shutdown:<why>"` close it cleanly (the
 * client gets `phx_close` and does not rejoin); any other reason counts as a crash (the client
 * gets `phx_error` and rejoins). An optional reply is sent first.
 */
export interface StopResult {
  readonly kind: "stop";
  readonly reason: string;
  readonly reply: ReplyResult | undefined;
}

/** What `join` returns: `ok(response?)` or `error(response)`. Returning nothing means `ok()`. */
export type JoinResult = ReplyResult<"ok" | "error"> | void | undefined;

/** What `handleIn` returns: a reply, nothing (noreply) or a stop. */
export type HandleInResult = ReplyResult | StopResult | void | undefined;

/** What `handleOut` and `handleInfo` return: nothing, or a stop. */
export type HandleResult = StopResult | void | undefined;

/** Why a channel ended, as `terminate` sees it. */
export type TerminateReason =
  | "normal" | "shutdown" | `shutdown:${string}`
  | "left" | "closed" | "duplicate_join" | "disconnect" | "crash" | (string & {});

/** A reply that can be sent later, outside the handler (see `ChannelSocket.replyRef`). */
export interface ReplyRef {
  readonly topic: string;
  readonly joinRef: string;
  readonly ref: string | null;
}

/** The channel's view of itself, handed to every callback. */
export interface ChannelSocket<A extends Assigns = Assigns> {
  /** The joined topic, e.g. `"room:lobby"`. */
  readonly topic: string;
  /** The join_ref of this join (a rejoin is a new instance with a new join_ref). */
  readonly joinRef: string;
  /** The socket id (`id` hook of the socket), or null. */
  readonly id: string | null;
  /** A cluster-unique id of this channel instance (the owner of what it tracks in presence). */
  readonly ownerId: string;
  /** This channel's own state: a shallow copy of the socket's assigns taken at join. */
  readonly assigns: A;
  /** The PubSub this channel broadcasts on. */
  readonly pubsub: PubSub;
  /** True once the join succeeded and until the channel ends. */
  readonly joined: boolean;
  /** Merges `values` into `assigns`. */
  assign(values: Partial<A>): void;
  /** Pushes an event to this channel's client only (pushes made during join go out after the join reply). */
  push(event: string, payload: unknown): void;
  /** Broadcasts an event to every subscriber of the topic, this client included. */
  broadcast(event: string, payload: unknown): void;
  /** Broadcasts an event to every subscriber of the topic except this channel. */
  broadcastFrom(event: string, payload: unknown): void;
  /** Queues `message` for this channel's `handleInfo`, after what is already queued. */
  send(message: unknown): void;
  /** Queues `message` for `handleInfo` after `ms` milliseconds; returns a function that cancels it. */
  sendAfter(ms: number, message: unknown): () => void;
  /** Captures the message being handled so it can be answered later with `reply`. */
  replyRef(): ReplyRef;
  /** Sends a reply for a captured message (an asynchronous reply). */
  reply(ref: ReplyRef, result: ReplyResult): void;
  /** Runs `callback` once when the channel has ended (after `terminate`); returns an unsubscribe function. */
  onExit(callback: (reason: TerminateReason) => void): () => void;
}

/** The payload type of `event` in a channel declaring `E`. */
export type EventPayload<E extends EventSchemas, K extends keyof E> = StandardSchemaV1.InferOutput<E[K]>;

/** The arguments of `handleIn`: one `(event, payload, socket)` tuple per declared event. */
export type HandleInArgs<A extends Assigns, E extends EventSchemas> = [keyof E] extends [never]
  ? [event: string, payload: unknown, socket: ChannelSocket<A>]
  : { [K in keyof E & string]: [event: K, payload: EventPayload<E, K>, socket: ChannelSocket<A>] }[keyof E & string];

/**
 * The arguments of `handleOut`: one `(event, payload, socket)` tuple per intercepted event `I`,
 * the payload typed by that event's `pushes` schema (its output type, as the client sees it) and
 * `unknown` when undeclared. Without a literal `intercept` list: `(string, unknown, socket)`.
 */
export type HandleOutArgs<A extends Assigns, O extends EventSchemas, I extends string> = string extends I
  ? [event: string, payload: unknown, socket: ChannelSocket<A>]
  : { [K in I]: [event: K, payload: K extends keyof O ? EventPayload<O, K> : unknown, socket: ChannelSocket<A>] }[I];

/** A channel: declared once, instantiated for every join of a matching topic. */
export interface ChannelDefinition<
  A extends Assigns = Assigns,
  E extends EventSchemas = NoEvents,
  P = unknown,
  R extends EventSchemas = NoEvents,
  O extends EventSchemas = NoEvents,
  M extends StandardSchemaV1 | undefined = undefined,
  I extends string = string,
> {
  /** Broadcast events that go through each channel's `handleOut` instead of the fastlane. */
  readonly intercept?: readonly I[];
  /**
   * Makes the matching topics stream topics: every broadcast is recorded (the last `size`, for
   * `ttlMs`; `true` for the defaults, 100 for 5 minutes) and clients can recover what they
   * missed on rejoin (docs/recovery.md).
   */
  readonly history?: true | Partial<StreamLimits>;
  /** Payload schemas per client event (Standard Schema); validated before `handleIn`. */
  readonly events?: E;
  /** Reply schemas per client event: they type `@cinder/client`'s replies (not validated). */
  readonly replies?: R;
  /** Schemas of the events the server pushes or broadcasts: they type the client's `on` (not validated). */
  readonly pushes?: O;
  /** Schema of this channel's presence metas: it types the client's `Presence` (not validated). */
  readonly meta?: M;
  /** Authorizes a join. Throwing answers `{"reason":"join crashed"}`. */
  join(topic: string, params: P, socket: ChannelSocket<A>): JoinResult | Promise<JoinResult>;
  /**
   * Handles a client push. With `events` declared, `(event, payload)` is typed per event: declare
   * all three parameters (`handleIn(event, payload, socket)`) so TypeScript narrows the payload
   * when you test the event.
   */
  handleIn?(...args: HandleInArgs<A, E>): HandleInResult | Promise<HandleInResult>;
  /**
   * Handles an intercepted broadcast; call `socket.push` to pass it on, or not. The event is one
   * of `intercept` and its payload is typed by `pushes`: declare all three parameters
   * (`handleOut(event, payload, socket)`) so TypeScript narrows the payload when you test the event.
   */
  handleOut?(...args: HandleOutArgs<A, O, I>): HandleResult | Promise<HandleResult>;
  /** Handles a message the channel sent itself (`send`, `sendAfter`). */
  handleInfo?(message: unknown, socket: ChannelSocket<A>): HandleResult | Promise<HandleResult>;
  /** Called once when a joined channel ends, whatever the reason. */
  terminate?(reason: TerminateReason, socket: ChannelSocket<A>): void | Promise<void>;
}

/** Any channel definition, whatever its assigns, events and params. */
export type AnyChannelDefinition = ChannelDefinition<
  Assigns, EventSchemas, unknown, EventSchemas, EventSchemas, StandardSchemaV1 | undefined, string
>;

/** Declares a channel; types flow from `events`, `pushes`, `intercept` and annotated `socket` parameters. */
export function defineChannel<
  A extends Assigns = Assigns,
  E extends EventSchemas = NoEvents,
  P = unknown,
  R extends EventSchemas = NoEvents,
  O extends EventSchemas = NoEvents,
  M extends StandardSchemaV1 | undefined = undefined,
  I extends string = string,
>(definition: ChannelDefinition<A, E, P, R, O, M, I>): ChannelDefinition<A, E, P, R, O, M, I> {
  return definition;
}

/** A reply with status `"ok"`. */
export function ok<R = Record<string, never>>(response?: R): ReplyResult<"ok", R> {
  return { kind: "reply", status: "ok", response: (response ?? {}) as R };
}

/** A reply with status `"error"`. */
export function error<R>(response: R): ReplyResult<"error", R> {
  return { kind: "reply", status: "error", response };
}

/** A reply with any status, e.g. `reply("queued", {...})`. */
export function reply<S extends string, R = Record<string, never>>(status: S, response?: R): ReplyResult<S, R> {
  return { kind: "reply", status, response: (response ?? {}) as R };
}

/** No reply (the same as returning nothing). */
export function noreply(): undefined {
  return undefined;
}

/** Stops the channel, optionally replying first. See `StopResult` for what the reason means. */
export function stop(reason = "normal", replyFirst?: ReplyResult): StopResult {
  return { kind: "stop", reason, reply: replyFirst };
}

/** True when a stop reason is a clean close (`phx_close`) rather than a crash (`phx_error`). */
export function isCleanStop(reason: string): boolean {
  return reason === "normal" || reason === "shutdown" || reason.startsWith("shutdown:");
}
