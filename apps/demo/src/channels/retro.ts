/**
 * Retro rooms (`room:<name>`): a chat and a retro board. Joining creates the room and replies
 * with its last 50 messages (`more` when older ones exist: `history:before` pages back) and the
 * board (stage, facilitator, vote budget, ideas with votes, action items); then the channel
 * pushes `presence_state` and tracks the user under their username with `{online_at}`.
 *
 * The server decides every rule (see ../retro/board.ts): ideas are added, edited and deleted
 * (one's own) while brainstorming; votes are cast within a per-person budget during the vote;
 * action items are written from the discussion on (edited or deleted by their author or the
 * facilitator). The facilitator — the first to join, handed over to whoever has been here
 * longest when they leave (not when the server shuts down), or claimed by anyone while they are
 * away — moves the stages for everyone. Every change is stored, then broadcast whole (`idea:saved`, `idea:deleted`,
 * `action:saved`, `action:deleted`, `board:stage`, `board:facilitator`).
 *
 * Rooms are stream topics (docs/recovery.md, `ROOM_HISTORY`): a page that comes back after a
 * blip or a deploy rejoins with its stream position and gets every broadcast it missed, once
 * each and in order, after the join reply — however many chat messages that was (the join
 * reply's last 50 alone would leave a hole). The join reply still carries the stored last 50
 * and the board, for a first join and for a rejoin the history cannot serve (a server restart,
 * past the history): the page then starts its list again from them. Messages carry their
 * database id, so the page drops a message it already shows (the reply and the replay overlap).
 */
import { z } from "zod";
import { defineChannel, error, ok, type Presence } from "@cinder/server";
import type { AppContext, UserSocket } from "./context.js";
import {
  actionsOpen, canMove, COLUMNS, DEFAULT_VOTE_BUDGET, ideasOpen, STAGES, votingOpen, type Column, type Refusal,
} from "../retro/board.js";
import { safeText, textProblem } from "../text.js";
import { exportFilename, toCsv, toMarkdown } from "../retro/export.js";

type RetroSocket = UserSocket<{ roomId: number; room: string; presenceRef: string }>;

/** The rooms' stream history: the last 500 broadcasts of a room, for 15 minutes. */
export const ROOM_HISTORY = { size: 500, ttlMs: 15 * 60_000 } as const;

/** How many messages a join or a `history:before` page carries. */
export const HISTORY_PAGE = 50;

const id = z.number().int("an id is an integer").positive("an id is positive");
const messageBody = safeText("a message").trim().min(1, "a message cannot be empty").max(2000, "at most 2000 characters");
const ideaBody = safeText("an idea").trim().min(1, "an idea cannot be empty").max(500, "an idea has at most 500 characters");
const actionBody = safeText("an action item").trim().min(1, "an action item cannot be empty").max(500, "an action item has at most 500 characters");
const owner = z.string().max(100).nullable();
const column = z.enum(Object.keys(COLUMNS) as [Column, ...Column[]], "pick a column");
const message = z.object({ id: z.number(), user: z.string(), body: z.string(), inserted_at: z.number() });
const idea = z.object({ id: z.number(), column, body: z.string(), author: z.string(), votes: z.number(), voters: z.record(z.string(), z.number()) });
const action = z.object({ id: z.number(), body: z.string(), owner: z.string().nullable(), author: z.string() });
const stage = z.enum(STAGES);

/** Options of the retro channel. */
export interface RetroOptions {
  /** Votes per person per room (default 3). */
  voteBudget?: number | undefined;
}

/** Readable messages for the board's refusals (the error reply's `message`, beside `reason`). */
const REFUSALS: Record<Refusal, string> = {
  not_facilitator: "only the facilitator can do that",
  facilitator_present: "the facilitator is still here",
  not_yours: "you can only change your own",
  not_found: "it does not exist (any more)",
  stage_closed: "the current stage does not allow that",
  no_votes_left: "you have used all your votes",
  no_vote: "you have no vote on that idea",
  invalid_stage: "the facilitator moves one stage at a time",
  unknown_owner: "there is no such user to own the action item",
  not_present: "they are not in the room",
};

const refused = (reason: Refusal) => error({ reason, message: REFUSALS[reason] });

/** Who has been in `topic` longest, other than `except` (their earliest `online_at`; ties by name). */
async function longestPresent(presence: Presence, topic: string, except: string): Promise<string | undefined> {
  const present = await presence.list(topic);
  return Object.entries(present)
    .filter(([key]) => key !== except)
    .map(([key, entry]) => ({ key, since: Math.min(...entry.metas.map((m) => Number(m.online_at) || Infinity)) }))
    .sort((a, b) => a.since - b.since || a.key.localeCompare(b.key))[0]?.key;
}

/** The retro room channel. */
export function retroChannel({ store, presence, stopping }: AppContext, options: RetroOptions = {}) {
  const budget = options.voteBudget ?? DEFAULT_VOTE_BUDGET;

  /** Makes `to` (a username, or null) the facilitator if it still is `from`; tells the room. */
  const handOver = async (socket: RetroSocket, from: number | null, to: string | null): Promise<boolean> => {
    const next = to === null ? undefined : await store.userByName(to);
    if (to !== null && next === undefined) return false;
    if (!(await store.retro.handOver(socket.assigns.roomId, from, next?.id ?? null))) return false;
    socket.broadcast("board:facilitator", { facilitator: next?.username ?? null });
    return true;
  };

  /** True when `username` has a presence in the room other than `exceptRef`. */
  const isPresent = async (topic: string, username: string, exceptRef?: string): Promise<boolean> => {
    const entry = await presence.getByKey(topic, username);
    return entry !== undefined && entry.metas.some((meta) => meta.phx_ref !== exceptRef);
  };

  return defineChannel({
    history: ROOM_HISTORY,
    events: {
      "message:new": z.object({ body: messageBody }),
      "history:before": z.object({ before_id: id }),
      "idea:add": z.object({ column, body: ideaBody }),
      "idea:edit": z.object({ id, body: ideaBody }),
      "idea:delete": z.object({ id }),
      "vote:add": z.object({ idea_id: id }),
      "vote:remove": z.object({ idea_id: id }),
      "stage:set": z.object({ stage }),
      "facilitator:pass": z.object({ to: z.string().min(1).max(100) }),
      "facilitator:claim": z.object({}),
      "action:add": z.object({ body: actionBody, owner }),
      "action:edit": z.object({ id, body: actionBody, owner }),
      "action:delete": z.object({ id }),
      "board:export": z.object({ format: z.enum(["markdown", "csv"]) }),
    },
    replies: {
      "history:before": z.object({ messages: z.array(message), more: z.boolean() }),
      "board:export": z.object({ filename: z.string(), content: z.string() }),
    },
    pushes: {
      "message:new": message,
      "idea:saved": idea,
      "idea:deleted": z.object({ id: z.number() }),
      "action:saved": action,
      "action:deleted": z.object({ id: z.number() }),
      "board:stage": z.object({ stage }),
      "board:facilitator": z.object({ facilitator: z.string().nullable() }),
    },
    meta: z.object({ online_at: z.number() }),

    async join(topic: string, _params: unknown, socket: RetroSocket) {
      const name = topic.slice("room:".length);
      if (name.length === 0 || name.length > 100 || textProblem(name) !== undefined) return error({ reason: "invalid room name" });
      const roomId = await store.room(name);
      socket.assign({ roomId, room: name });
      socket.send("after_join");
      const history = await store.retro.messagesBefore(roomId, null, HISTORY_PAGE);
      return ok({ messages: history.messages, more: history.more, board: await store.retro.board(roomId, budget) });
    },

    async handleInfo(info: unknown, socket: RetroSocket) {
      if (info !== "after_join") return;
      socket.push("presence_state", await presence.list(socket.topic));
      const { user, roomId } = socket.assigns;
      // the first one here facilitates. A facilitator who is away (e.g. not yet back after a server
      // restart, when pages rejoin in any order) keeps the role until someone takes it on purpose
      // (`facilitator:claim`), so a restart ends with the same facilitator for everyone.
      const current = await store.retro.facilitator(roomId);
      const presenceRef = presence.track(socket, user.username, { online_at: Date.now() });
      socket.assign({ presenceRef });
      // who is online, through reloads: "joined" / "left" notices and a count that does not dip
      presence.subscribeOnline(socket);
      if (current === null) await handOver(socket, null, user.username);
    },

    async terminate(_reason, socket: RetroSocket) {
      const { user, roomId, presenceRef } = socket.assigns;
      // a server shutdown closes every socket: the facilitator stays who they were, for after the restart
      if (stopping?.() === true) return;
      if (roomId === undefined || (await store.retro.facilitator(roomId)) !== user.id) return;
      if (await isPresent(socket.topic, user.username, presenceRef)) return; // another tab of theirs is still here
      const next = await longestPresent(presence, socket.topic, user.username);
      if (next !== undefined) await handOver(socket, user.id, next);
    },

    async handleIn(event, payload, socket: RetroSocket) {
      const { roomId, user } = socket.assigns;
      const retro = store.retro;
      switch (event) {
        case "message:new": {
          socket.broadcast("message:new", await store.addMessage(roomId, user, payload.body));
          return ok();
        }
        case "history:before":
          return ok(await retro.messagesBefore(roomId, payload.before_id, HISTORY_PAGE));
        case "idea:add": {
          const added = await retro.addIdea(roomId, user, payload.column, payload.body, ideasOpen);
          if (!added.ok) return refused(added.reason);
          socket.broadcast("idea:saved", added.value);
          return ok({ id: added.value.id });
        }
        case "idea:edit":
        case "idea:delete": {
          const changed = await retro.changeIdea(roomId, user, payload.id, event === "idea:edit" ? payload.body : null, ideasOpen);
          if (!changed.ok) return refused(changed.reason);
          if (changed.value === null) socket.broadcast("idea:deleted", { id: payload.id });
          else socket.broadcast("idea:saved", changed.value);
          return ok();
        }
        case "vote:add":
        case "vote:remove": {
          const voted = await retro.vote(roomId, user, payload.idea_id, event === "vote:add" ? 1 : -1, budget, votingOpen);
          if (!voted.ok) return refused(voted.reason);
          socket.broadcast("idea:saved", voted.value);
          return ok();
        }
        case "stage:set": {
          const moved = await retro.setStage(roomId, user, payload.stage, canMove);
          if (!moved.ok) return refused(moved.reason);
          socket.broadcast("board:stage", { stage: moved.value });
          return ok();
        }
        case "facilitator:pass": {
          if ((await retro.facilitator(roomId)) !== user.id) return refused("not_facilitator");
          if (!(await isPresent(socket.topic, payload.to))) return refused("not_present");
          return (await handOver(socket, user.id, payload.to)) ? ok() : refused("not_facilitator");
        }
        case "facilitator:claim": {
          const current = await retro.facilitator(roomId);
          if (current === user.id) return ok();
          const name = current === null ? null : (await store.user(current))?.username ?? null;
          if (name !== null && (await isPresent(socket.topic, name))) return refused("facilitator_present");
          return (await handOver(socket, current, user.username)) ? ok() : refused("facilitator_present");
        }
        case "action:add":
        case "action:edit": {
          const ownerUser = payload.owner === null ? null : await store.userByName(payload.owner);
          if (ownerUser === undefined) return refused("unknown_owner");
          const saved = event === "action:add"
            ? await retro.addAction(roomId, user, payload.body, ownerUser?.id ?? null, actionsOpen)
            : await retro.changeAction(roomId, user, payload.id, { body: payload.body, ownerId: ownerUser?.id ?? null });
          if (!saved.ok) return refused(saved.reason);
          if (saved.value !== null) socket.broadcast("action:saved", saved.value);
          return ok();
        }
        case "action:delete": {
          const deleted = await retro.changeAction(roomId, user, payload.id, null);
          if (!deleted.ok) return refused(deleted.reason);
          socket.broadcast("action:deleted", { id: payload.id });
          return ok();
        }
        case "board:export": {
          const board = await retro.board(roomId, budget);
          const content = payload.format === "markdown" ? toMarkdown(socket.assigns.room, board) : toCsv(board);
          return ok({ filename: exportFilename(socket.assigns.room, payload.format), content });
        }
      }
      return undefined;
    },
  });
}
