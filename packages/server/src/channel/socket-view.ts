/**
 * The socket a channel's callbacks receive (`ChannelSocket`): a thin view over its
 * `ChannelInstance` — assigns, pushes, broadcasts, self-sent messages, timers, late replies and
 * exit callbacks.
 */
import type { PubSub } from "../pubsub/index.js";
import type { Assigns, ChannelSocket, ReplyRef, ReplyResult, TerminateReason } from "./definition.js";
import type { ChannelInstance } from "./instance.js";

/**
 * The handler-facing view of a channel (`ChannelSocket`): a small object whose methods live on
 * the prototype, so a channel costs a few fields, not a dozen closures.
 */
export class ChannelSocketView implements ChannelSocket {
  readonly topic: string;
  readonly joinRef: string;
  readonly id: string | null;
  readonly pubsub: PubSub;

  constructor(private readonly channel: ChannelInstance, readonly assigns: Assigns, readonly ownerId: string) {
    this.topic = channel.topic;
    this.joinRef = channel.joinRef;
    this.id = channel.host.socketId;
    this.pubsub = channel.host.pubsub;
  }

  get joined(): boolean {
    return this.channel.state === "joined";
  }

  assign(values: Partial<Assigns>): void {
    for (const [key, value] of Object.entries(values)) {
      // defineProperty, so a "__proto__" key is stored as data and never swaps the prototype.
      Object.defineProperty(this.assigns, key, { value, writable: true, enumerable: true, configurable: true });
    }
  }

  push(event: string, payload: unknown): void {
    this.channel.push(event, payload);
  }

  broadcast(event: string, payload: unknown): void {
    this.pubsub.broadcast(this.topic, event, payload);
  }

  broadcastFrom(event: string, payload: unknown): void {
    this.pubsub.broadcastFrom(this.channel, this.topic, event, payload);
  }

  send(message: unknown): void {
    this.channel.post(message);
  }

  sendAfter(ms: number, message: unknown): () => void {
    const channel = this.channel;
    if (channel.state === "ended") return () => {};
    const timers = (channel.timers ??= new Set());
    const timer = setTimeout(() => {
      channel.timers?.delete(timer);
      channel.post(message);
    }, ms);
    timers.add(timer);
    return () => {
      clearTimeout(timer);
      channel.timers?.delete(timer);
    };
  }

  replyRef(): ReplyRef {
    return { topic: this.topic, joinRef: this.joinRef, ref: this.channel.currentRef };
  }

  reply(ref: ReplyRef, result: ReplyResult): void {
    if (this.channel.state !== "ended") this.channel.sendReply(ref.ref, result.status, result.response);
  }

  onExit(callback: (reason: TerminateReason) => void): () => void {
    const callbacks = (this.channel.exitCallbacks ??= new Set());
    callbacks.add(callback);
    return () => { callbacks.delete(callback); };
  }
}
