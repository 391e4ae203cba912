/**
 * The conformance server's `echo:*` channel: every behaviour of the protocol contract in one
 * channel (replies with any status, pushes, broadcasts, broadcastFrom, intercepts, crashes,
 * stops, binary payloads, delayed messages and a self-disconnect).
 */
import { defineChannel, error, ok, reply, stop, type ChannelSocket } from "@cinder/server";
import { asObject } from "./util.js";

/** Assigns set by the conformance socket's `connect`. */
export interface EchoAssigns extends Record<string, unknown> {
  user: string;
}

type Socket = ChannelSocket<EchoAssigns>;

/** The `echo:*` channel. */
export const EchoChannel = defineChannel({
  intercept: ["filtered"],

  join(topic: string, params: unknown, _socket: Socket) {
    const options = asObject(params);
    if (options.reject === true) return error({ reason: "rejected" });
    if (options.crash === true) throw new Error("join crashed on purpose");
    return ok({ topic, params });
  },

  handleIn(event: string, payload: unknown, socket: Socket) {
    switch (event) {
      case "ping":
        return ok(payload);
      case "error_reply":
        return error(payload);
      case "custom_status":
        return reply("queued", payload);
      case "noreply":
        return undefined;
      case "push":
        socket.push("pushed", payload);
        return undefined;
      case "broadcast":
        socket.broadcast("broadcasted", payload);
        return undefined;
      case "broadcast_from":
        socket.broadcastFrom("broadcasted", payload);
        return undefined;
      case "intercepted":
        socket.broadcast("filtered", payload);
        return undefined;
      case "binary":
        return payload instanceof Uint8Array ? ok(payload) : error({ reason: "expected a binary payload" });
      case "disconnect_me":
        if (socket.id !== null) socket.pubsub.broadcast(socket.id, "disconnect", {});
        return ok();
      case "after": {
        const ms = Number(asObject(payload).ms ?? 0);
        socket.sendAfter(Number.isFinite(ms) && ms >= 0 ? ms : 0, { kind: "later" });
        return undefined;
      }
      case "crash":
        throw new Error("handleIn crashed on purpose");
      case "stop":
        return stop("normal");
      default:
        return error({ reason: "unknown_event", event });
    }
  },

  handleOut(event: string, payload: unknown, socket: Socket) {
    const fields = asObject(payload);
    if (fields.skip_user === socket.assigns.user) return;
    socket.push(event, { ...fields, seen_by: socket.assigns.user });
  },

  handleInfo(message: unknown, socket: Socket) {
    if (asObject(message).kind === "later") socket.push("later", {});
  },
});

/** The echo channel on stream topics (`stream:*`): broadcasts are recorded (1,000 for 5 minutes) and recoverable. */
export const StreamChannel = defineChannel({ ...EchoChannel, history: { size: 1_000, ttlMs: 5 * 60_000 } });
