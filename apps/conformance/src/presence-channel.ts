/**
 * The conformance server's `presence:*` channel: after join it pushes `presence_state`, then
 * tracks the socket's `user` with meta `{online_at, ...params.meta}`; `update` replaces the meta
 * with `{online_at: <the tracked one>, ...payload}`; `untrack` untracks (error `nopresence` when
 * nothing is tracked). A join with `{online: true}` also gets the topic's online/offline events
 * (`presence.subscribeOnline`: `presence_online_state`, `presence_online`, `presence_offline`). On `presence:fetch:*`
 * topics the presence module's `fetch` hook adds `user: {name: <key>}` (see server.ts).
 */
import { defineChannel, error, ok, PresenceError, type ChannelSocket, type Presence, type PresenceMap } from "@cinder/server";
import { asObject } from "./util.js";

/** Assigns of a presence channel. */
interface PresenceAssigns extends Record<string, unknown> {
  user: string;
  meta: Record<string, unknown>;
  online_at: number;
  /** The join asked for the online/offline events. */
  online: boolean;
}

type Socket = ChannelSocket<PresenceAssigns>;

/** The `fetch` hook of the conformance presence: decorates `presence:fetch:*` topics only. */
export function conformanceFetch(topic: string, presences: PresenceMap): PresenceMap {
  if (!topic.startsWith("presence:fetch:")) return presences;
  for (const key of Object.keys(presences)) presences[key] = { ...presences[key]!, user: { name: key } };
  return presences;
}

/** Builds the `presence:*` channel on a presence instance. */
export function presenceChannel(presence: Presence) {
  return defineChannel({
    join(_topic: string, params: unknown, socket: Socket) {
      socket.assign({ meta: asObject(asObject(params).meta), online: asObject(params).online === true });
      socket.send("after_join");
      return ok();
    },

    async handleInfo(message: unknown, socket: Socket) {
      if (message !== "after_join") return;
      await presence.pushState(socket);
      const online_at = Date.now();
      socket.assign({ online_at });
      presence.track(socket, socket.assigns.user, { online_at, ...socket.assigns.meta });
      if (socket.assigns.online) presence.subscribeOnline(socket);
    },

    handleIn(event: string, payload: unknown, socket: Socket) {
      try {
        if (event === "update") {
          presence.update(socket, socket.assigns.user, { online_at: socket.assigns.online_at, ...asObject(payload) });
          return ok();
        }
        if (event === "untrack") {
          return presence.untrack(socket, socket.assigns.user) ? ok() : error({ reason: "nopresence" });
        }
      } catch (caught) {
        if (caught instanceof PresenceError) return error({ reason: caught.reason });
        throw caught;
      }
      return error({ reason: "unknown_event", event });
    },
  });
}
