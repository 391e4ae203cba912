/**
 * A joined channel: one instance per join, an actor with its own assigns and a mailbox that
 * runs join, handleIn, handleOut and handleInfo one at a time. It subscribes to its topic on
 * the PubSub and writes broadcasts straight to its connection (the fastlane, `fastlane.ts`: encoded
 * once per serializer, shared by every subscriber), except intercepted events, which go through
 * `handleOut`. However it ends — leave, stop, crash, duplicate join, transport closed — it
 * unsubscribes, tells its client (`phx_close` / `phx_error`) when it still can, runs
 * `terminate` and then its exit callbacks (presence untracks there), exactly once.
 */
import { CHANNEL_EVENTS } from "@cinder/protocol";
import { randomBytes } from "node:crypto";
import type { Logger } from "../logger.js";
import { diagnostics } from "../diagnostics.js";
import type { BroadcastMessage, PubSub, Subscriber } from "../pubsub/index.js";
import { EncodeError, type Frame, type Message, type Serializer } from "../serializer/index.js";
import {
  isCleanStop, type AnyChannelDefinition, type Assigns, type ChannelSocket,
  type ReplyResult, type StopResult, type TerminateReason,
} from "./definition.js";
import { fastlaneFrame } from "./fastlane.js";
import { Mailbox } from "./mailbox.js";
import { BadReturnError, isPromiseLike, readResult, resultStatus, type ValidResult } from "./results.js";
import { validatePayload } from "./schema.js";
import type { HistoryRead, Publication } from "../history/index.js";
import { planRecovery, readStreamRequest, withStreamReply, StreamCursor, type StreamRequest } from "./recovery.js";
import { ChannelSocketView } from "./socket-view.js";

/** What a channel needs from the connection that hosts it. */
export interface ChannelHost {
  readonly serializer: Serializer;
  readonly socketId: string | null;
  readonly pubsub: PubSub;
  readonly logger: Logger;
  /** The id of the endpoint, for diagnostics events. */
  readonly endpointId: string;
  /** How long a channel's ending waits for a handler in flight before it cleans up anyway. */
  readonly shutdownTimeoutMs: number;
  /** Writes a frame to the client. */
  sendFrame(frame: Frame): void;
  /** Called when the channel ends, so the host forgets it. */
  channelEnded(channel: ChannelInstance): void;
  /** Called once the ended channel's `terminate` and exit callbacks have run. */
  channelFinished(channel: ChannelInstance): void;
}

/** How a channel's end is shown to its client. */
type Notice = "close" | "error" | "none";

const BOOT_ID = randomBytes(4).toString("hex");
let ownerCounter = 0;

/** One joined (or joining) channel on one connection. */
export class ChannelInstance implements Subscriber {
  /** "joining" until the join callback answers ok, "joined" until it ends, then "ended". */
  state: "joining" | "joined" | "ended" = "joining";
  /** The handler-facing view of this channel. */
  readonly socket: ChannelSocket;
  private readonly mailbox: Mailbox;
  private readonly intercepts: ReadonlySet<string> | undefined;
  /** Pending `sendAfter` timers (allocated on first use). */
  timers: Set<NodeJS.Timeout> | undefined;
  /** Callbacks to run once the channel has ended (allocated on first use). */
  exitCallbacks: Set<(reason: TerminateReason) => void> | undefined;
  /** Pushes made while joining, sent after the join reply (allocated on first use). */
  private pendingPushes: Message[] | undefined;
  /** The ref of the message being handled (for `replyRef`). */
  currentRef: string | null = null;
  /** Live broadcasts held back while a stream join reads the history (see recovery.ts). */
  private heldBack: BroadcastMessage[] | undefined;
  /** For clients that opted into a stream: the last position sent, so nothing goes out twice. */
  private cursor: StreamCursor | undefined;

  constructor(
    readonly definition: AnyChannelDefinition,
    readonly topic: string,
    readonly joinRef: string,
    /** The connection hosting this channel. */
    readonly host: ChannelHost,
    assigns: Assigns,
    /** The route pattern that matched the topic (for metrics). */
    readonly pattern: string,
  ) {
    this.mailbox = new Mailbox((error) => this.crash(error));
    this.intercepts = definition.intercept && definition.intercept.length > 0 ? new Set(definition.intercept) : undefined;
    this.socket = new ChannelSocketView(this, { ...assigns }, `${host.pubsub.nodeName}.${BOOT_ID}.${++ownerCounter}`);
  }

  /** Runs the join callback; replies to the join message with `ref`. */
  join(params: unknown, ref: string | null): void {
    this.mailbox.post(async () => {
      const started = performance.now();
      const report = (status: "ok" | "error" | "crash"): void => {
        if (!diagnostics.join.hasSubscribers) return;
        diagnostics.join.publish({
          endpoint: this.host.endpointId, topic: this.topic, pattern: this.pattern, status, durationMs: performance.now() - started,
        });
      };
      let value: unknown;
      try {
        value = this.definition.join(this.topic, params, this.socket);
        if (isPromiseLike(value)) value = await value;
      } catch (error) {
        report("crash");
        this.refuseCrashedJoin(ref, error, "join crashed");
        return;
      }
      if (this.state !== "joining") return;
      const result = readResult("join", value);
      if (result instanceof BadReturnError) {
        report("crash");
        this.refuseCrashedJoin(ref, result, "join returned a bad value");
      } else if (result === undefined || result.status === "ok") {
        this.state = "joined";
        const request = this.host.pubsub.streamLimits(this.topic) === undefined ? undefined : readStreamRequest(params);
        if (request !== undefined) this.heldBack = [];
        // With a topic-aware cluster adapter, the reply (and a stream's history read) waits until
        // broadcasts from other nodes reach this node; local ones meanwhile are held back, so
        // none goes out before the reply.
        const routed = this.host.pubsub.subscribe(this.topic, this);
        if (routed !== undefined) {
          this.heldBack ??= [];
          await routed;
          if (this.state !== "joined") return;
        }
        let response: unknown = result === undefined ? {} : result.response;
        let replay: readonly Publication[] = [];
        if (request !== undefined) {
          const plan = planRecovery(request, await this.readStream(request));
          if (this.state !== "joined") return;
          response = withStreamReply(response, plan.reply);
          replay = plan.replay;
          this.cursor = new StreamCursor(plan.start);
        }
        this.sendReply(ref, "ok", response);
        if (this.heldBack !== undefined) this.releaseHeldBack(replay);
        const pushes = this.pendingPushes ?? [];
        this.pendingPushes = undefined;
        report("ok");
        for (const push of pushes) this.sendMessage(push);
      } else {
        report("error");
        this.sendReply(ref, "error", result.response);
        this.end("normal", "none", false);
      }
    });
  }

  /** Reads what a stream join asked for; undefined when the store cannot be read (logged). */
  private async readStream(request: StreamRequest): Promise<HistoryRead | undefined> {
    try {
      if (request.kind === "recover") return await this.host.pubsub.readHistory(this.topic, { since: request.from });
      return await this.host.pubsub.readHistory(this.topic, { last: request.kind === "last" ? request.count : 0 });
    } catch (error) {
      this.host.logger.error({ topic: this.topic, err: error }, "history cannot be read; joined without recovery");
      return undefined;
    }
  }

  /** Sends the replayed publications, then the live broadcasts held back meanwhile, skipping duplicates. */
  private releaseHeldBack(replay: readonly Publication[]): void {
    const held = this.heldBack ?? [];
    this.heldBack = undefined;
    for (const publication of replay) {
      this.deliver({ topic: publication.topic, event: publication.event, payload: publication.payload, position: publication.position });
    }
    for (const message of held) this.deliver(message);
  }

  /** Answers a join whose callback threw or returned a bad value with `{"reason":"join crashed"}`. */
  private refuseCrashedJoin(ref: string | null, error: unknown, message: string): void {
    this.host.logger.error({ topic: this.topic, err: error }, message);
    if (diagnostics.error.hasSubscribers) diagnostics.error.publish({ endpoint: this.host.endpointId, kind: "join_crash", topic: this.topic });
    this.sendReply(ref, "error", { reason: "join crashed" });
    this.end("crash", "none", false);
  }

  /** Queues a client push for `handleIn`. */
  handleIn(message: Message): void {
    this.mailbox.post(async () => {
      if (this.state !== "joined") return;
      const { event, ref } = message;
      let payload = message.payload;
      const schemas = this.definition.events;
      if (schemas !== undefined) {
        const schema = Object.prototype.hasOwnProperty.call(schemas, event) ? schemas[event] : undefined;
        if (schema === undefined) {
          this.sendReply(ref, "error", { reason: "unknown_event", event });
          return;
        }
        const outcome = await validatePayload(schema, payload);
        if (!outcome.ok) {
          this.sendReply(ref, "error", { reason: "invalid_payload", errors: outcome.issues });
          return;
        }
        payload = outcome.value;
      }
      const handler = this.definition.handleIn;
      if (handler === undefined) {
        this.sendReply(ref, "error", { reason: "unknown_event", event });
        return;
      }
      this.currentRef = ref;
      const started = performance.now();
      let result: ValidResult["handleIn"] | BadReturnError;
      let status = "crash";
      try {
        let value = handler.call(this.definition, event, payload, this.socket);
        if (isPromiseLike(value)) value = await value;
        result = readResult("handleIn", value);
        status = resultStatus(result);
      } finally {
        this.currentRef = null;
        if (diagnostics.handleIn.hasSubscribers) {
          diagnostics.handleIn.publish({
            endpoint: this.host.endpointId, topic: this.topic, pattern: this.pattern, event, status, durationMs: performance.now() - started,
          });
        }
      }
      this.apply(result, ref);
    });
  }

  /**
   * Handles `phx_leave`: replies ok, then closes with `phx_close`. A channel still joining
   * (a join that has not answered, which phoenix.js leaves after its join timeout) ends at once.
   */
  leave(ref: string | null): void {
    if (this.state === "joining") {
      this.sendReply(ref, "ok", {});
      this.end("left", "close", false);
      return;
    }
    this.mailbox.post(() => {
      if (this.state === "ended") return;
      this.sendReply(ref, "ok", {});
      this.end("left", "close", this.state === "joined");
    });
  }

  /** Ends the channel from outside (transport closed, duplicate join, disconnect). */
  shutdown(reason: TerminateReason, notice: Notice): void {
    this.end(reason, notice, this.state === "joined");
  }

  /** Fastlane delivery of a broadcast on this channel's topic. */
  deliver(message: BroadcastMessage): void {
    if (this.state !== "joined") return;
    if (this.heldBack !== undefined) {
      this.heldBack.push(message);
      return;
    }
    if (this.cursor !== undefined && message.position !== undefined && !this.cursor.admit(message.position)) return;
    if (this.intercepts?.has(message.event)) {
      this.mailbox.post(async () => {
        if (this.state !== "joined") return;
        const handleOut = this.definition.handleOut;
        if (handleOut === undefined) {
          this.socket.push(message.event, message.payload);
          return;
        }
        let value: unknown = handleOut.call(this.definition, message.event, message.payload, this.socket);
        if (isPromiseLike(value)) value = await value;
        this.apply(readResult("handleOut", value), null);
      });
      return;
    }
    const frame = fastlaneFrame(message, this.host.serializer, this.host, this.cursor !== undefined);
    if (frame !== null) this.host.sendFrame(frame);
  }

  /** Pushes an event to this channel's client (held until the join reply while joining). */
  push(event: string, payload: unknown): void {
    const message: Message = { join_ref: this.joinRef, ref: null, topic: this.topic, event, payload };
    if (this.state === "joined") this.sendMessage(message);
    else if (this.state === "joining") (this.pendingPushes ??= []).push(message);
  }

  /** Queues `message` for `handleInfo`. */
  post(message: unknown): void {
    this.mailbox.post(async () => {
      if (this.state !== "joined") return;
      const handleInfo = this.definition.handleInfo;
      if (handleInfo === undefined) {
        this.host.logger.warn({ topic: this.topic }, "message sent to a channel without handleInfo; dropped");
        return;
      }
      let value: unknown = handleInfo.call(this.definition, message, this.socket);
      if (isPromiseLike(value)) value = await value;
      this.apply(readResult("handleInfo", value), null);
    });
  }

  /**
   * Acts on what handleIn, handleOut or handleInfo returned: sends the reply (to the message with
   * `ref`), or stops the channel; a bad return throws, which crashes the channel (`phx_error`).
   */
  private apply(result: ReplyResult | StopResult | BadReturnError | undefined, ref: string | null): void {
    if (result === undefined) return;
    if (result instanceof BadReturnError) throw result;
    if (result.kind === "reply") this.sendReply(ref, result.status, result.response);
    else this.applyStop(result, ref);
  }

  private applyStop(result: StopResult, ref: string | null): void {
    if (result.reply !== undefined) this.sendReply(ref, result.reply.status, result.reply.response);
    const clean = isCleanStop(result.reason);
    if (!clean) this.host.logger.error({ topic: this.topic, reason: result.reason }, "channel stopped abnormally");
    this.end(result.reason, clean ? "close" : "error", true);
  }

  private crash(error: unknown): void {
    if (this.state === "ended") {
      this.host.logger.error({ topic: this.topic, err: error }, "error while ending a channel");
      return;
    }
    this.host.logger.error({ topic: this.topic, err: error }, "channel crashed");
    if (diagnostics.error.hasSubscribers) diagnostics.error.publish({ endpoint: this.host.endpointId, kind: "channel_crash", topic: this.topic });
    this.end("crash", "error", true);
  }

  private end(reason: TerminateReason, notice: Notice, runTerminate: boolean): void {
    if (this.state === "ended") return;
    if (this.state === "joined" && diagnostics.leave.hasSubscribers) {
      diagnostics.leave.publish({ endpoint: this.host.endpointId, topic: this.topic, pattern: this.pattern, reason });
    }
    this.state = "ended";
    this.pendingPushes = undefined;
    this.host.pubsub.unsubscribe(this.topic, this);
    if (this.timers !== undefined) for (const timer of this.timers) clearTimeout(timer);
    this.timers = undefined;
    this.host.channelEnded(this);
    if (notice !== "none") {
      const event = notice === "close" ? CHANNEL_EVENTS.close : CHANNEL_EVENTS.error;
      const payload = notice === "close" ? {} : { reason: "channel_crash" };
      this.sendMessage({ join_ref: this.joinRef, ref: this.joinRef, topic: this.topic, event, payload });
    }
    this.mailbox.close(async () => {
      try {
        if (runTerminate && this.definition.terminate) await this.definition.terminate(reason, this.socket);
      } catch (error) {
        this.host.logger.error({ topic: this.topic, err: error }, "terminate threw");
      }
      for (const callback of this.exitCallbacks ?? []) {
        try {
          callback(reason);
        } catch (error) {
          this.host.logger.error({ topic: this.topic, err: error }, "exit callback threw");
        }
      }
      this.exitCallbacks = undefined;
      this.host.channelFinished(this);
    }, this.host.shutdownTimeoutMs);
  }

  private sendMessage(message: Message): void {
    let frame: Frame;
    try {
      frame = this.host.serializer.encode(message);
    } catch (error) {
      if (error instanceof EncodeError) throw error;
      throw new EncodeError(`cannot encode "${message.event}": ${(error as Error).message}`);
    }
    this.host.sendFrame(frame);
  }

  /** Sends a `phx_reply` for the message with `ref`. */
  sendReply(ref: string | null, status: string, response: unknown): void {
    let frame: Frame;
    try {
      frame = this.host.serializer.encodeReply({ join_ref: this.joinRef, ref, topic: this.topic, status, response });
    } catch (error) {
      this.host.logger.error({ topic: this.topic, err: error }, "reply cannot be encoded");
      frame = this.host.serializer.encodeReply({
        join_ref: this.joinRef, ref, topic: this.topic, status: "error", response: { reason: "reply could not be encoded" },
      });
    }
    this.host.sendFrame(frame);
  }
}
