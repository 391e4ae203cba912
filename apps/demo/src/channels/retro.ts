/**
 * Retro rooms (`room:<name>`): joining creates the room and replies with its last 50 messages;
 * then the channel pushes `presence_state` and tracks the user under their username with
 * `{online_at}`. `message:new` `{body}` (1–2000 characters) is stored and broadcast to the room.
 */
import { z } from "zod";
import { defineChannel, error, ok } from "@cinder/server";
import type { AppContext, UserSocket } from "./context.js";

type RetroSocket = UserSocket<{ roomId: number }>;

/** The retro room channel. */
export function retroChannel({ store, presence }: AppContext) {
  return defineChannel({
    events: {
      "message:new": z.object({ body: z.string().trim().min(1, "a message cannot be empty").max(2000, "at most 2000 characters") }),
    },
    pushes: {
      "message:new": z.object({ id: z.number(), user: z.string(), body: z.string(), inserted_at: z.number() }),
    },
    meta: z.object({ online_at: z.number() }),

    async join(topic: string, _params: unknown, socket: RetroSocket) {
      const name = topic.slice("room:".length);
      if (name.length === 0 || name.length > 100) return error({ reason: "invalid room name" });
      const roomId = await store.room(name);
      socket.assign({ roomId });
      socket.send("after_join");
      return ok({ messages: await store.lastMessages(roomId, 50) });
    },

    async handleInfo(message: unknown, socket: RetroSocket) {
      if (message !== "after_join") return;
      socket.push("presence_state", await presence.list(socket.topic));
      presence.track(socket, socket.assigns.user.username, { online_at: Date.now() });
    },

    async handleIn(event, payload, socket: RetroSocket) {
      if (event === "message:new") {
        const message = await store.addMessage(socket.assigns.roomId, socket.assigns.user, payload.body);
        socket.broadcast("message:new", message);
        return ok();
      }
      return undefined;
    },
  });
}
