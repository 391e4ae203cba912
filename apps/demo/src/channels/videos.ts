/**
 * Video annotations (`videos:<id>`). Join params `{last_seen_id, since}` reply with the video's
 * live annotations newer than that id (ordered by playback time), the older ones edited or
 * deleted since `since` (`changed`, `deleted`) and the server's `now` for the next rejoin — so a
 * rejoin fetches only what was missed; an unknown video is refused with `not_found`.
 *
 * `new_annotation` `{body, at, parent_id?}` stores an annotation, or a reply (at its parent's
 * time), and broadcasts it; `edit_annotation` and `delete_annotation` change one's own
 * (`annotation_updated`, `annotation_deleted` with the ids gone — a deletion takes its replies).
 *
 * Presence is keyed by user id, with metas `{online_at, at, playing, reported_at}`: where the
 * watcher is in the video. `position` pushes move it, at most once per `positionIntervalMs`
 * (the latest position of a faster burst is applied when the interval has passed). The
 * presence `fetch` hook adds `user: {username}` (one query per list or diff).
 */
import { z } from "zod";
import { defineChannel, error, ok, type PresenceMap } from "@cinder/server";
import type { Store } from "../db/store.js";
import { safeText } from "../text.js";
import type { AppContext, UserSocket } from "./context.js";
import { parseId } from "../http/respond.js";

/** Where a watcher is: playback time (ms), playing or paused. */
interface Position {
  at: number;
  playing: boolean;
}

type VideoSocket = UserSocket<{
  videoId: number;
  /** When the presence last moved (ms). */
  movedAt: number;
  /** A position waiting for the interval to pass. */
  pending: Position | undefined;
}>;

/** The shortest time between two position updates of one watcher, unless configured. */
export const DEFAULT_POSITION_INTERVAL_MS = 1000;

const annotation = z.object({
  id: z.number(), body: z.string(), at: z.number(), user: z.object({ id: z.number(), username: z.string() }),
  parent_id: z.number().nullable(), edited: z.boolean(),
});
const id = z.number().int("an id is an integer").positive("an id is positive");
const body = safeText("an annotation").trim().min(1, "an annotation cannot be empty").max(500, "at most 500 characters");
const at = z.number().int("at must be an integer").min(0, "at must be ≥ 0").max(24 * 3600 * 1000, "at must be within 24 hours");

/** The `fetch` hook for `videos:*` topics: adds `user: {username}` to every presence, in one query. */
export async function decorateViewers(store: Store, presences: PresenceMap): Promise<PresenceMap> {
  const users = await store.usersByIds(Object.keys(presences).map(Number));
  for (const key of Object.keys(presences)) {
    const user = users.get(Number(key));
    presences[key] = { ...presences[key]!, user: { username: user?.username ?? "unknown" } };
  }
  return presences;
}

/** Options of the video channel. */
export interface VideoOptions {
  /** The shortest time between two position updates of one watcher (ms, default 1000). */
  positionIntervalMs?: number | undefined;
}

/** The video annotations channel. */
export function videoChannel({ store, presence }: AppContext, options: VideoOptions = {}) {
  const interval = options.positionIntervalMs ?? DEFAULT_POSITION_INTERVAL_MS;
  const move = (socket: VideoSocket, position: Position): void => {
    socket.assign({ movedAt: Date.now(), pending: undefined });
    presence.update(socket, String(socket.assigns.user.id), (old) => ({ ...old, ...position, reported_at: Date.now() }));
  };

  return defineChannel({
    events: {
      new_annotation: z.object({ body, at, parent_id: id.optional() }),
      edit_annotation: z.object({ id, body }),
      delete_annotation: z.object({ id }),
      position: z.object({ at, playing: z.boolean() }),
    },
    replies: { new_annotation: z.object({ id: z.number() }) },
    pushes: {
      new_annotation: annotation,
      annotation_updated: annotation,
      annotation_deleted: z.object({ ids: z.array(z.number()) }),
    },
    meta: z.object({ online_at: z.number(), at: z.number(), playing: z.boolean(), reported_at: z.number() }),

    async join(topic: string, params: { last_seen_id?: number; since?: number } | undefined, socket: VideoSocket) {
      // The one id parser: `videos:01` or `videos:1.0` would be topics apart from `videos:1`.
      const videoId = parseId(topic.slice("videos:".length));
      const video = videoId === undefined ? undefined : await store.video(videoId);
      if (videoId === undefined || video === undefined) return error({ reason: "not_found" });
      const count = (value: unknown): number => (Number.isSafeInteger(value) && Number(value) > 0 ? Number(value) : 0);
      const lastSeen = count(params?.last_seen_id);
      const since = count(params?.since);
      socket.assign({ videoId, movedAt: 0, pending: undefined });
      socket.send("after_join");
      const now = Date.now();
      const changes = lastSeen > 0 && since > 0 ? await store.annotationChanges(videoId, lastSeen, since) : { changed: [], deleted: [] };
      return ok({ annotations: await store.annotations(videoId, lastSeen), ...changes, now });
    },

    async handleInfo(message: unknown, socket: VideoSocket) {
      if (message === "after_join") {
        socket.push("presence_state", await presence.list(socket.topic));
        const now = Date.now();
        presence.track(socket, String(socket.assigns.user.id), { online_at: now, at: 0, playing: false, reported_at: now });
      } else if (message === "move" && socket.assigns.pending !== undefined) {
        move(socket, socket.assigns.pending);
      }
    },

    async handleIn(event, payload, socket: VideoSocket) {
      const { videoId, user } = socket.assigns;
      switch (event) {
        case "new_annotation": {
          const stored = await store.addAnnotation(videoId, user, payload.body, payload.at, payload.parent_id ?? null);
          if (stored === undefined) return error({ reason: "not_found", message: "the annotation you reply to is gone" });
          socket.broadcast("new_annotation", stored);
          return ok({ id: stored.id });
        }
        case "edit_annotation":
        case "delete_annotation": {
          const changed = await store.changeAnnotation(videoId, user, payload.id, event === "edit_annotation" ? payload.body : null);
          if (!changed.ok) {
            return error({ reason: changed.reason, message: changed.reason === "not_yours" ? "you can only change your own annotations" : "that annotation is gone" });
          }
          if ("edited" in changed) socket.broadcast("annotation_updated", changed.edited);
          else socket.broadcast("annotation_deleted", { ids: changed.deleted });
          return ok();
        }
        case "position": {
          const wait = socket.assigns.movedAt + interval - Date.now();
          if (wait <= 0) move(socket, payload);
          else {
            if (socket.assigns.pending === undefined) socket.sendAfter(wait, "move");
            socket.assign({ pending: payload });
          }
          return ok();
        }
      }
      return undefined;
    },
  });
}
