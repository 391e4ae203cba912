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

/**
 * The big-room policy of `notifications:all` (pages use its counts, not its roster): from 500
 * connections the pages get no presence diffs; the `presence_count` they then also get (and
 * ignore) comes at most every 10 s, the online counts below being what they show.
 */
export const NOTIFICATIONS_BIG_ROOM = { threshold: 500, sampleSize: 0, countIntervalMs: 10_000 } as const;

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

/**
 * How long the online counts of a topic with `connections` connections wait between two
 * updates at most: a second, and one more second per 10,000 connections (11 s at 100,000), so
 * a storm of joins and leaves (a deploy, a live event) costs every page a bounded number of
 * frames rather than one per presence diff.
 */
export function onlineCountsIntervalMs(connections: number): number {
  return 1000 * (1 + Math.floor(connections / 10_000));
}

/** The presence hook that keeps every page's online counts current, and its timer. */
export interface OnlineCountsHook {
  /** Presence `handleMetas`: a change on `notifications:all`. */
  handleMetas(topic: string, diff: PresenceDiff): void;
  /** Stops the pending update (the app is closing). */
  close(): void;
}

/**
 * Tells every page on this node the online counts after a change: at once when the last update
 * went out at least `onlineCountsIntervalMs` ago, else once when that interval is over (always
 * with the counts of that moment, so the last change of a burst is never lost).
 */
export function onlineCountsHook(presence: () => Pick<AppContext["presence"], "countUsers" | "countConnections">,
  localBroadcast: (topic: string, event: string, payload: unknown) => void, now: () => number = Date.now): OnlineCountsHook {
  let lastSentAt = -Infinity;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const send = (): void => {
    timer = undefined;
    lastSentAt = now();
    localBroadcast(ALL, "online", { users: presence().countUsers(ALL), connections: presence().countConnections(ALL) });
  };
  return {
    handleMetas(topic) {
      if (topic !== ALL || timer !== undefined) return;
      const wait = lastSentAt + onlineCountsIntervalMs(presence().countConnections(ALL)) - now();
      if (wait <= 0) send();
      else timer = setTimeout(send, wait);
    },
    close() {
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
    },
  };
}
