/**
 * Video annotations (`videos:<id>`): join params `{last_seen_id}` reply with the video's
 * annotations newer than that id (ordered by playback time), so a rejoin fetches only what was
 * missed; an unknown video is refused with `not_found`. `new_annotation` `{body, at}` is stored
 * and broadcast. Presence is keyed by user id and decorated with `user: {username}` by the
 * presence `fetch` hook (one query per list or diff).
 */
import { z } from "zod";
import { defineChannel, error, ok, type PresenceMap } from "@cinder/server";
import type { Store } from "../db/store.js";
import type { AppContext, UserSocket } from "./context.js";

type VideoSocket = UserSocket<{ videoId: number }>;

const annotation = z.object({ id: z.number(), body: z.string(), at: z.number(), user: z.object({ id: z.number(), username: z.string() }) });

/** The `fetch` hook for `videos:*` topics: adds `user: {username}` to every presence, in one query. */
export async function decorateViewers(store: Store, presences: PresenceMap): Promise<PresenceMap> {
  const users = await store.usersByIds(Object.keys(presences).map(Number));
  for (const key of Object.keys(presences)) {
    const user = users.get(Number(key));
    presences[key] = { ...presences[key]!, user: { username: user?.username ?? "unknown" } };
  }
  return presences;
}

/** The video annotations channel. */
export function videoChannel({ store, presence }: AppContext) {
  return defineChannel({
    events: {
      new_annotation: z.object({
        body: z.string().trim().min(1, "an annotation cannot be empty").max(500, "at most 500 characters"),
        at: z.number().int("at must be an integer").min(0, "at must be ≥ 0"),
      }),
    },
    replies: { new_annotation: z.object({}) },
    pushes: { new_annotation: annotation },
    meta: z.object({ online_at: z.number() }),

    async join(topic: string, params: { last_seen_id?: number } | undefined, socket: VideoSocket) {
      const videoId = Number(topic.slice("videos:".length));
      const video = Number.isSafeInteger(videoId) && videoId > 0 ? await store.video(videoId) : undefined;
      if (video === undefined) return error({ reason: "not_found" });
      const lastSeen = Number(params?.last_seen_id ?? 0);
      socket.assign({ videoId });
      socket.send("after_join");
      return ok({ annotations: await store.annotations(videoId, Number.isSafeInteger(lastSeen) && lastSeen > 0 ? lastSeen : 0) });
    },

    async handleInfo(message: unknown, socket: VideoSocket) {
      if (message !== "after_join") return;
      socket.push("presence_state", await presence.list(socket.topic));
      presence.track(socket, String(socket.assigns.user.id), { online_at: Date.now() });
    },

    async handleIn(event, payload, socket: VideoSocket) {
      if (event === "new_annotation") {
        const stored = await store.addAnnotation(socket.assigns.videoId, socket.assigns.user, payload.body, payload.at);
        socket.broadcast("new_annotation", stored);
        return ok();
      }
      return undefined;
    },
  });
}
