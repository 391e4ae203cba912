/**
 * One client connection above the transport (Phoenix's socket process): decodes frames,
 * answers heartbeats, routes `phx_join` to a new channel instance, `phx_leave` and pushes to
 * the joined channel, and applies the protocol's rules for unjoined topics, stale join_refs,
 * duplicate joins and the channel limit. It does not know which transport carries it.
 */
import { ACCESS_TOKEN_EVENTS, CHANNEL_EVENTS, HEARTBEAT_EVENT, PHOENIX_TOPIC } from "@cinder/protocol";
import {
  ChannelInstance, type Assigns, type ChannelHost, type ChannelRouter,
} from "../channel/index.js";
import type { Logger } from "../logger.js";
import type { DrainingMap } from "../draining.js";
import { diagnostics } from "../diagnostics.js";
import type { BroadcastMessage, PubSub, Subscriber } from "../pubsub/index.js";
import { DecodeError, type Frame, type Message, type Serializer } from "../serializer/index.js";
import { RefusalBudget, TokenBucket, type Rate, type RefusalWindow } from "./limits.js";
import type { Accepted } from "./connect.js";
import type { ConnectInfo, ConnectParams, SocketDefinition } from "./definition.js";
import { TokenLifetime, type LifetimeHost } from "./lifetime.js";
import type { Revocations } from "./revocations.js";

/** Per-connection limits. */
export interface ConnectionLimits {
  /** Joins per connection (token bucket), or null for no limit. */
  readonly joinRate: Rate | null;
  /** Messages per connection other than heartbeats and leaves (token bucket), or null. */
  readonly messageRate: Rate | null;
  /** Heartbeats per connection (token bucket), or null. */
  readonly heartbeatRate: Rate | null;
  /** Rate-limit refusals per window past which a connection is closed (1008). */
  readonly refusalWindow: RefusalWindow;
  /** Longest topic in UTF-8 bytes; longer ones get an error reply. */
  readonly maxTopicLength: number;
}

/** Shared by every connection of an endpoint. */
export interface SocketContext {
  readonly router: ChannelRouter;
  readonly pubsub: PubSub;
  readonly logger: Logger;
  /** Most channels one connection may have joined at once. */
  readonly maxChannels: number;
  /** How long an ending channel waits for a handler in flight. */
  readonly shutdownTimeoutMs: number;
  /** Per-connection limits. */
  readonly limits: ConnectionLimits;
  /** Every channel not yet finished ending, on every connection, with its connection (for graceful shutdown). */
  readonly live: DrainingMap<ChannelInstance, SocketConnection>;
  /** The endpoint's id, carried by its diagnostics events. */
  readonly endpointId: string;
  /** The socket declaration (its `refresh` and `connect` check refreshed tokens). */
  readonly socket: SocketDefinition;
  /** Revoked socket ids (`endpoint.revoke`). */
  readonly revocations: Revocations;
}

/** What a connection needs from its transport. */
export interface TransportSink {
  /**
   * Writes one frame (a no-op once closed). A `control` frame (a heartbeat reply) is ordered with
   * nothing a channel sends, so a sink may send it ahead of frames it is holding for a slow reader.
   */
  send(frame: Frame, control?: boolean): void;
  /** Closes the transport with a WebSocket close code. */
  close(code: number, reason: string): void;
}

/** WebSocket close codes the socket layer uses. */
export const CloseCode = {
  /** `"disconnect"` on the socket id: clients reconnect. */
  goingAway: 1001,
  /** An undecodable frame. */
  invalidFrame: 1007,
  /** A connection that kept going over its rate limits. */
  policyViolation: 1008,
} as const;

/** The event on a socket id's topic that closes its connections as revoked (`endpoint.revoke`). */
export const REVOKE_EVENT = "phx_revoke";

/** One connection's socket state. */
export class SocketConnection implements ChannelHost, LifetimeHost {
  /** Joined (and joining) channels by topic. */
  readonly channels = new Map<string, ChannelInstance>();
  private closed = false;
  private readonly idSubscriber: Subscriber | undefined;
  private readonly joinBucket: TokenBucket | undefined;
  private readonly messageBucket: TokenBucket | undefined;
  private readonly heartbeatBucket: TokenBucket | undefined;
  private readonly refusals: RefusalBudget;
  private warned = false;
  /** Closed for going over its refusal budget (the close is under way). */
  private overLimit = false;
  /** The serializer negotiated from `vsn`. */
  readonly serializer: Serializer;
  /** The assigns `connect` gave. */
  readonly assigns: Assigns;
  /** The socket id, or null. */
  readonly socketId: string | null;
  /** The connect params. */
  readonly params: ConnectParams;
  /** The connect info. */
  readonly info: ConnectInfo;
  /** The token's expiry and its refreshes. */
  readonly lifetime: TokenLifetime;

  constructor(
    private readonly context: SocketContext,
    private readonly transport: TransportSink,
    accepted: Accepted,
  ) {
    this.serializer = accepted.serializer;
    this.assigns = accepted.assigns;
    this.socketId = accepted.id;
    this.params = accepted.params;
    this.info = accepted.info;
    const socketId = accepted.id;
    const { joinRate, messageRate, heartbeatRate, refusalWindow } = context.limits;
    this.joinBucket = joinRate === null ? undefined : new TokenBucket(joinRate);
    this.messageBucket = messageRate === null ? undefined : new TokenBucket(messageRate);
    this.heartbeatBucket = heartbeatRate === null ? undefined : new TokenBucket(heartbeatRate);
    this.refusals = new RefusalBudget(refusalWindow);
    if (socketId !== null) {
      this.idSubscriber = {
        deliver: (message: BroadcastMessage) => {
          if (message.event === "disconnect") this.transport.close(CloseCode.goingAway, "disconnect");
          else if (message.event === REVOKE_EVENT) this.lifetime.revoke();
        },
      };
      context.pubsub.subscribe(socketId, this.idSubscriber);
    }
    this.lifetime = new TokenLifetime(this, accepted.expiresAt);
    this.lifetime.start();
  }

  /** The socket declaration. */
  get socket(): SocketDefinition {
    return this.context.socket;
  }

  /** Revoked socket ids. */
  get revocations(): Revocations {
    return this.context.revocations;
  }

  /** True once the transport closed. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** Pushes an event on the `phoenix` topic. */
  push(event: string, payload: unknown): void {
    this.sendFrame(this.serializer.encode({ join_ref: null, ref: null, topic: PHOENIX_TOPIC, event, payload }));
  }

  /** Replies to a message on the `phoenix` topic. */
  reply(message: Message, status: "ok" | "error", response: unknown): void {
    this.answer(message, null, status, response);
  }

  /** Closes the transport (its close ends the channels). */
  close(code: number, reason: string): void {
    if (!this.closed) this.transport.close(code, reason);
  }

  /** The endpoint's PubSub. */
  get pubsub(): PubSub {
    return this.context.pubsub;
  }

  /** The endpoint's logger. */
  get logger(): Logger {
    return this.context.logger;
  }

  /** The endpoint's id, for diagnostics events. */
  get endpointId(): string {
    return this.context.endpointId;
  }

  /** How long an ending channel waits for a handler in flight. */
  get shutdownTimeoutMs(): number {
    return this.context.shutdownTimeoutMs;
  }

  /** Decodes and handles one incoming frame; an undecodable frame closes the connection. */
  handleFrame(data: Buffer, binary: boolean): void {
    if (this.closed) return;
    let message: Message;
    try {
      message = this.serializer.decode(data, binary);
    } catch (error) {
      if (!(error instanceof DecodeError)) throw error;
      this.logger.info({ reason: error.message }, "undecodable frame; closing the connection");
      if (diagnostics.error.hasSubscribers) diagnostics.error.publish({ endpoint: this.context.endpointId, kind: "decode" });
      this.transport.close(CloseCode.invalidFrame, error.message.slice(0, 120));
      return;
    }
    this.handleMessage(message);
  }

  /** Handles one decoded message. */
  handleMessage(message: Message): void {
    if (this.closed) return;
    const { topic, event } = message;
    if (topic === PHOENIX_TOPIC && event === HEARTBEAT_EVENT) {
      if (this.allowed(this.heartbeatBucket, message, "heartbeat") && !this.closed) {
        // Ahead of any backlog: a client that waits one interval for it (phoenix.js) otherwise
        // takes a long queue for a dead connection, reconnects and rejoins (docs/presence.md).
        this.transport.send(this.serializer.encodeReply({ join_ref: null, ref: message.ref, topic, status: "ok", response: {} }), true);
      }
      return;
    }
    if (topic === PHOENIX_TOPIC && event === ACCESS_TOKEN_EVENTS.refresh) {
      if (this.allowed(this.messageBucket, message, "message")) this.lifetime.handleRefresh(message);
      return;
    }
    const maxTopic = this.context.limits.maxTopicLength;
    if (topic.length > maxTopic / 3 && Buffer.byteLength(topic) > maxTopic) {
      this.logger.warn({ bytes: Buffer.byteLength(topic), limit: maxTopic }, "message refused: topic too long");
      this.answer(message, null, "error", { reason: "topic too long" });
      return;
    }
    if (event === CHANNEL_EVENTS.join) {
      if (this.allowed(this.joinBucket, message, "join")) this.join(message);
      return;
    }
    if (event !== CHANNEL_EVENTS.leave && !this.allowed(this.messageBucket, message, "message")) return;
    const channel = this.channels.get(topic);
    if (channel === undefined) {
      if (event === CHANNEL_EVENTS.leave) this.answer(message, message.join_ref, "ok", {});
      else this.answer(message, null, "error", { reason: "unmatched topic" });
      return;
    }
    if (message.join_ref !== null && message.join_ref !== channel.joinRef) return; // stale join_ref: dropped
    if (event === CHANNEL_EVENTS.leave) channel.leave(message.ref);
    else channel.handleIn(message);
  }

  /** Writes a frame to the transport. */
  sendFrame(frame: Frame): void {
    if (!this.closed) this.transport.send(frame);
  }

  /** Forgets a channel that ended. */
  channelEnded(channel: ChannelInstance): void {
    if (this.channels.get(channel.topic) === channel) this.channels.delete(channel.topic);
  }

  /** A channel finished ending (terminate and exit callbacks ran). */
  channelFinished(channel: ChannelInstance): void {
    this.context.live.delete(channel);
  }

  /** The transport closed: every channel ends with reason "closed". */
  transportClosed(): void {
    if (this.closed) return;
    this.closed = true;
    this.lifetime.stop();
    if (this.idSubscriber !== undefined && this.socketId !== null) {
      this.context.pubsub.unsubscribe(this.socketId, this.idSubscriber);
    }
    for (const channel of [...this.channels.values()]) channel.shutdown("closed", "none");
    this.channels.clear();
  }

  private join(message: Message): void {
    const { topic } = message;
    const joinRef = message.join_ref ?? message.ref ?? "";
    const existing = this.channels.get(topic);
    if (existing !== undefined) existing.shutdown("duplicate_join", "close");
    const definition = this.context.router.match(topic);
    if (definition === undefined) {
      this.logger.warn({ topic }, "join refused: unmatched topic");
      this.answer(message, null, "error", { reason: "unmatched topic" });
      return;
    }
    if (this.channels.size >= this.context.maxChannels) {
      this.logger.warn({ topic, limit: this.context.maxChannels }, "join refused: too many channels joined");
      this.answer(message, joinRef, "error", { reason: "too many channels joined" });
      return;
    }
    const channel = new ChannelInstance(definition, topic, joinRef, this, this.assigns, this.context.router.patternOf(topic) ?? topic);
    this.channels.set(topic, channel);
    this.context.live.set(channel, this);
    channel.join(message.payload, message.ref);
  }

  /** Takes a token from `bucket`; when it is empty, refuses the message (and closes a connection past its refusal budget). */
  private allowed(bucket: TokenBucket | undefined, message: Message, what: "join" | "message" | "heartbeat"): boolean {
    if (bucket === undefined || bucket.take()) return true;
    if (diagnostics.rateLimited.hasSubscribers) {
      diagnostics.rateLimited.publish({ endpoint: this.context.endpointId, what });
    }
    if (!this.warned) {
      this.warned = true;
      this.logger.warn({ topic: message.topic, what }, "rate limited");
    }
    this.answer(message, what === "join" ? message.join_ref ?? message.ref : null, "error", { reason: "rate_limited" });
    if (!this.refusals.spend() && !this.overLimit) {
      this.overLimit = true;
      const { refusals, windowMs } = this.context.limits.refusalWindow;
      this.logger.warn({ refusals, windowMs }, "closing a connection refused by its rate limits too often");
      this.transport.close(CloseCode.policyViolation, "rate limited");
    }
    return false;
  }

  private answer(message: Message, joinRef: string | null, status: string, response: unknown): void {
    this.sendFrame(this.serializer.encodeReply({ join_ref: joinRef, ref: message.ref, topic: message.topic, status, response }));
  }
}
