/**
 * Admin notifications. Every page joins `notifications:all`, which carries admin broadcasts
 * (`new_msg` `{body, at}`) and the overall online counts (`online` `{users, connections}`, from
 * presence on this topic); `notifications:user:<id>` carries notes to one user, and only that
 * user may join it.
 *
 * Both are stream topics (docs/recovery.md): a page that was offline for a while (a blip, a
 * deploy) gets the notices it missed when it rejoins, once each; the online counts are local
 * broadcasts and pushes, not recorded.
 */
import { z } from "zod";
import { defineChannel, error, ok, type PresenceDiff } from "@cinder/server";
import type { AppContext, UserSocket } from "./context.js";

/** The topic every page joins. */
export const ALL = "notifications:all";

/** The online counts pushed to every page. */
export interface OnlineCounts {
  users: number;
  connections: number;
}

/** The notifications channel. */
export function notificationsChannel({ presence }: AppContext) {
  const counts = (): OnlineCounts => ({ users: presence.countUsers(ALL), connections: presence.countConnections(ALL) });
  return defineChannel({
    history: { size: 50, ttlMs: 10 * 60_000 },
    pushes: {
      new_msg: z.object({ body: z.string(), at: z.number() }),
      online: z.object({ users: z.number(), connections: z.number() }),
    },

    join(topic: string, _params: unknown, socket: UserSocket) {
      if (topic === ALL) {
        socket.send("track");
        return ok();
      }
      if (topic === `notifications:user:${socket.assigns.user.id}`) return ok();
      return error({ reason: "unauthorized" });
    },

    handleInfo(message: unknown, socket: UserSocket) {
      if (message !== "track") return;
      presence.track(socket, String(socket.assigns.user.id), { online_at: Date.now() });
      socket.push("online", counts());
    },
  });
}

/** Presence `handleMetas` hook: tells every page on this node the new online counts. */
export function onlineCountsHook(presence: () => Pick<AppContext["presence"], "countUsers" | "countConnections">,
  localBroadcast: (topic: string, event: string, payload: unknown) => void) {
  return (topic: string, _diff: PresenceDiff): void => {
    if (topic !== ALL) return;
    localBroadcast(ALL, "online", { users: presence().countUsers(ALL), connections: presence().countConnections(ALL) });
  };
}
