/**
 * Channel contracts: how a server channel definition types the client, structurally. A contract
 * is any object type with optional `events` (what the client pushes), `replies` (what the server
 * answers, per event), `pushes` (what the server pushes or broadcasts), `meta` (presence metas)
 * and a `join(topic, params, ...)` method — the shape of `@cinder/server`'s `ChannelDefinition`,
 * so `socket.channel<typeof Room>("room:1")` works without importing the server. Schemas are
 * Standard Schemas (zod, valibot, arktype...): pushes are typed by their input type, replies,
 * server pushes and metas by their output type. Without a type argument every payload is
 * `unknown` and every event name allowed, as in phoenix.js.
 */
import type { PRESENCE_EVENTS } from "@cinder/protocol";
import type { StandardSchemaV1 } from "@standard-schema/spec";
import type { ControlEvent } from "./constants.js";
import type { Params } from "./types.js";

/** A Standard Schema per event name. */
export type SchemaMap = Record<string, StandardSchemaV1>;

/** What the client reads from a channel definition (all parts optional). */
export interface ChannelContract {
  /** Schemas of the events the client pushes. */
  readonly events?: SchemaMap;
  /** Schemas of the "ok" replies, per pushed event. */
  readonly replies?: SchemaMap;
  /** Schemas of the events the server pushes or broadcasts. */
  readonly pushes?: SchemaMap;
  /** Schema of one presence meta. */
  readonly meta?: StandardSchemaV1 | undefined;
  /** The server's join callback; its `params` type types the join params. */
  join?(topic: string, params: never, ...rest: never[]): unknown;
}

/** The untyped contract: any event, `unknown` payloads (the default type argument). */
export type AnyContract = ChannelContract;

/** The schema map under key `K` of a contract, or `{}` when absent. */
type MapOf<C, K extends "events" | "replies" | "pushes"> =
  C extends { readonly [P in K]?: infer S } ? (NonNullable<S> extends SchemaMap ? NonNullable<S> : {}) : {};

/** The input type of a schema (`unknown` for a non-schema). */
type InputOf<S> = S extends StandardSchemaV1 ? StandardSchemaV1.InferInput<S> : unknown;

/** The output type of a schema (`unknown` for a non-schema). */
type OutputOf<S> = S extends StandardSchemaV1 ? StandardSchemaV1.InferOutput<S> : unknown;

/** True when a map declares no keys. */
type IsEmpty<M> = [keyof M] extends [never] ? true : false;

/** Event names the client may push: the declared `events`, or any string when none are declared. */
export type EventName<C> = IsEmpty<MapOf<C, "events">> extends true ? string : keyof MapOf<C, "events"> & string;

/** The payload of a client push of `E` (the schema's input type), `unknown` when undeclared. */
export type PushPayload<C, E extends string> =
  E extends keyof MapOf<C, "events"> ? InputOf<MapOf<C, "events">[E]> : unknown;

/** The "ok" response to a push of `E` (the `replies` schema's output type), `unknown` when undeclared. */
export type ReplyPayload<C, E extends string> =
  E extends keyof MapOf<C, "replies"> ? OutputOf<MapOf<C, "replies">[E]> : unknown;

/** The presence events a channel carries. */
export type PresenceEvent = (typeof PRESENCE_EVENTS)[keyof typeof PRESENCE_EVENTS];

/** Event names `channel.on` accepts: the declared `pushes` plus control and presence events, or any string. */
export type IncomingEvent<C> = IsEmpty<MapOf<C, "pushes">> extends true
  ? string
  : (keyof MapOf<C, "pushes"> & string) | ControlEvent | PresenceEvent;

/** The payload of a server push or broadcast of `E` (output type), `unknown` when undeclared. */
export type IncomingPayload<C, E extends string> =
  E extends keyof MapOf<C, "pushes"> ? OutputOf<MapOf<C, "pushes">[E]> : unknown;

/** The user part of a presence meta: the `meta` schema's output type, or a loose record. */
export type MetaOf<C> = C extends { readonly meta?: infer M }
  ? [NonNullable<M>] extends [never]
    ? Record<string, unknown>
    : NonNullable<M> extends StandardSchemaV1 ? LooseIfUnknown<StandardSchemaV1.InferOutput<NonNullable<M>>> : Record<string, unknown>
  : Record<string, unknown>;

/** `Record<string, unknown>` for `unknown` (an untyped schema), else `T`. */
type LooseIfUnknown<T> = unknown extends T ? Record<string, unknown> : T;

/** The join params: the `params` type of the contract's `join`, or loose `Params`. */
export type JoinParams<C> = C extends { join?(topic: string, params: infer P, ...rest: never[]): unknown }
  ? ([P] extends [never] ? Params : unknown extends P ? Params | undefined : P)
  : Params;

/** The `params` argument(s) of `socket.channel`: optional when an empty object would do. */
export type ChannelParamsArgs<C> = {} extends JoinParams<C>
  ? [params?: JoinParams<C> | (() => JoinParams<C>)]
  : undefined extends JoinParams<C>
    ? [params?: JoinParams<C> | (() => JoinParams<C>)]
    : [params: JoinParams<C> | (() => JoinParams<C>)];

/** The `payload` (and `timeout`) arguments of `channel.push`: the payload is optional when it may be undefined. */
export type PushArgs<C, E extends string> = undefined extends PushPayload<C, E>
  ? [payload?: PushPayload<C, E>, timeout?: number]
  : [payload: PushPayload<C, E>, timeout?: number];
