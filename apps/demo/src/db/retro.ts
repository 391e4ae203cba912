/**
 * A retro room's board in the database: its stage and facilitator (on `rooms`), its ideas,
 * votes and action items, and its chat history page by page. Writes that must respect a rule
 * against concurrent writers (the vote budget, the stage) run in a transaction that first
 * locks the room's row, so two clicks at once are decided one after the other on SQLite and
 * PostgreSQL alike.
 */
import type { Db } from "./db.js";
import type { Message, User } from "./store.js";
import { isStage, type ActionItem, type Board, type Column, type Idea, type Refusal, type Stage } from "../retro/board.js";

type Row = Record<string, unknown>;

/** A refusal or a value. */
export type Outcome<T> = { ok: true; value: T } | { ok: false; reason: Refusal };

const num = (value: unknown): number => Number(value);
const refuse = (reason: Refusal): { ok: false; reason: Refusal } => ({ ok: false, reason });
const done = <T>(value: T): { ok: true; value: T } => ({ ok: true, value });

/** The retro board part of the apps' data. */
export class RetroStore {
  constructor(private readonly db: Db) {}

  /** Locks the room's row until the transaction ends (PostgreSQL; SQLite transactions are already serial); returns its stage. */
  private async lockRoom(tx: Db, roomId: number): Promise<{ stage: Stage; facilitatorId: number | null } | undefined> {
    const [row] = await tx.query<Row>(`SELECT stage, facilitator_id FROM rooms WHERE id = ?${tx.kind === "postgres" ? " FOR UPDATE" : ""}`, [roomId]);
    if (row === undefined) return undefined;
    const stage = String(row.stage);
    return { stage: isStage(stage) ? stage : "brainstorm", facilitatorId: row.facilitator_id === null ? null : num(row.facilitator_id) };
  }

  /** The whole board of a room. */
  async board(roomId: number, voteBudget: number): Promise<Board> {
    const [room] = await this.db.query<Row>(
      "SELECT r.stage, u.username FROM rooms r LEFT JOIN users u ON u.id = r.facilitator_id WHERE r.id = ?", [roomId]);
    const stage = String(room?.stage ?? "brainstorm");
    return {
      stage: isStage(stage) ? stage : "brainstorm",
      facilitator: room?.username == null ? null : String(room.username),
      vote_budget: voteBudget,
      ideas: await this.ideas(roomId),
      actions: await this.actions(roomId),
    };
  }

  /** The ideas of a room (or just one), oldest first, with their votes. */
  private async ideas(roomId: number, ideaId?: number): Promise<Idea[]> {
    const only = ideaId === undefined ? "" : " AND i.id = ?";
    const params = ideaId === undefined ? [roomId] : [roomId, ideaId];
    const rows = await this.db.query<Row>(
      `SELECT i.id, i.category, i.body, u.username FROM retro_ideas i JOIN users u ON u.id = i.user_id
       WHERE i.room_id = ?${only} ORDER BY i.id`, params);
    const votes = await this.db.query<Row>(
      `SELECT v.idea_id, u.username, COUNT(*) AS n FROM retro_votes v JOIN users u ON u.id = v.user_id
       WHERE v.room_id = ?${ideaId === undefined ? "" : " AND v.idea_id = ?"} GROUP BY v.idea_id, u.username`, params);
    const ideas = rows.map((row): Idea => ({
      id: num(row.id), column: String(row.category) as Column, body: String(row.body), author: String(row.username), votes: 0, voters: {},
    }));
    const byId = new Map(ideas.map((idea) => [idea.id, idea]));
    for (const vote of votes) {
      const idea = byId.get(num(vote.idea_id));
      if (idea === undefined) continue;
      idea.voters[String(vote.username)] = num(vote.n);
      idea.votes += num(vote.n);
    }
    return ideas;
  }

  /** One idea of a room, with its votes. */
  async idea(roomId: number, ideaId: number): Promise<Idea | undefined> {
    return (await this.ideas(roomId, ideaId))[0];
  }

  /** The action items of a room (or just one), oldest first. */
  private async actions(roomId: number, actionId?: number): Promise<ActionItem[]> {
    const rows = await this.db.query<Row>(
      `SELECT a.id, a.body, au.username AS author, ou.username AS owner FROM retro_actions a
       JOIN users au ON au.id = a.user_id LEFT JOIN users ou ON ou.id = a.owner_id
       WHERE a.room_id = ?${actionId === undefined ? "" : " AND a.id = ?"} ORDER BY a.id`,
      actionId === undefined ? [roomId] : [roomId, actionId]);
    return rows.map((row) => ({ id: num(row.id), body: String(row.body), author: String(row.author), owner: row.owner == null ? null : String(row.owner) }));
  }

  /** Adds an idea (while the stage allows it). */
  addIdea(roomId: number, user: User, column: Column, body: string, allowed: (stage: Stage) => boolean): Promise<Outcome<Idea>> {
    return this.db.transaction(async (tx) => {
      const room = await this.lockRoom(tx, roomId);
      if (room === undefined) return refuse("not_found");
      if (!allowed(room.stage)) return refuse("stage_closed");
      const now = Date.now();
      const [row] = await tx.query<Row>(
        "INSERT INTO retro_ideas (room_id, user_id, category, body, inserted_at, updated_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
        [roomId, user.id, column, body, now, now]);
      return done({ id: num(row!.id), column, body, author: user.username, votes: 0, voters: {} });
    });
  }

  /** Edits (a new body) or deletes (body null) one's own idea, while the stage allows it. */
  changeIdea(roomId: number, user: User, ideaId: number, body: string | null, allowed: (stage: Stage) => boolean): Promise<Outcome<Idea | null>> {
    return this.db.transaction(async (tx) => {
      const room = await this.lockRoom(tx, roomId);
      if (room === undefined) return refuse("not_found");
      const [row] = await tx.query<Row>("SELECT user_id FROM retro_ideas WHERE id = ? AND room_id = ?", [ideaId, roomId]);
      if (row === undefined) return refuse("not_found");
      if (num(row.user_id) !== user.id) return refuse("not_yours");
      if (!allowed(room.stage)) return refuse("stage_closed");
      if (body === null) {
        await tx.query("DELETE FROM retro_votes WHERE idea_id = ?", [ideaId]);
        await tx.query("DELETE FROM retro_ideas WHERE id = ?", [ideaId]);
        return done(null);
      }
      await tx.query("UPDATE retro_ideas SET body = ?, updated_at = ? WHERE id = ?", [body, Date.now(), ideaId]);
      return done((await this.ideasIn(tx, roomId, ideaId))!);
    });
  }

  /** The same idea query inside a transaction. */
  private async ideasIn(tx: Db, roomId: number, ideaId: number): Promise<Idea | undefined> {
    return (await new RetroStore(tx).ideas(roomId, ideaId))[0];
  }

  /**
   * Casts (`delta` 1) or takes back (`delta` -1) one vote of `user` on an idea: refused outside
   * the vote, past the budget, or without a vote to take back. The budget is checked and the
   * vote written under the room's lock, so concurrent votes never exceed it.
   */
  vote(roomId: number, user: User, ideaId: number, delta: 1 | -1, budget: number, allowed: (stage: Stage) => boolean): Promise<Outcome<Idea>> {
    return this.db.transaction(async (tx) => {
      const room = await this.lockRoom(tx, roomId);
      if (room === undefined) return refuse("not_found");
      if (!allowed(room.stage)) return refuse("stage_closed");
      const [idea] = await tx.query<Row>("SELECT id FROM retro_ideas WHERE id = ? AND room_id = ?", [ideaId, roomId]);
      if (idea === undefined) return refuse("not_found");
      if (delta === 1) {
        const [used] = await tx.query<Row>("SELECT COUNT(*) AS n FROM retro_votes WHERE room_id = ? AND user_id = ?", [roomId, user.id]);
        if (num(used?.n) >= budget) return refuse("no_votes_left");
        await tx.query("INSERT INTO retro_votes (idea_id, room_id, user_id, inserted_at) VALUES (?, ?, ?, ?)", [ideaId, roomId, user.id, Date.now()]);
      } else {
        const [mine] = await tx.query<Row>("SELECT id FROM retro_votes WHERE idea_id = ? AND user_id = ? ORDER BY id DESC LIMIT 1", [ideaId, user.id]);
        if (mine === undefined) return refuse("no_vote");
        await tx.query("DELETE FROM retro_votes WHERE id = ?", [num(mine.id)]);
      }
      return done((await this.ideasIn(tx, roomId, ideaId))!);
    });
  }

  /** Moves the board to `to`, when `user` facilitates and `allowed(from, to)`. */
  setStage(roomId: number, user: User, to: Stage, allowed: (from: Stage, to: Stage) => boolean): Promise<Outcome<Stage>> {
    return this.db.transaction(async (tx) => {
      const room = await this.lockRoom(tx, roomId);
      if (room === undefined) return refuse("not_found");
      if (room.facilitatorId !== user.id) return refuse("not_facilitator");
      if (!allowed(room.stage, to)) return refuse("invalid_stage");
      await tx.query("UPDATE rooms SET stage = ? WHERE id = ?", [to, roomId]);
      return done(to);
    });
  }

  /** The facilitator's user id, or null. */
  async facilitator(roomId: number): Promise<number | null> {
    const [row] = await this.db.query<Row>("SELECT facilitator_id FROM rooms WHERE id = ?", [roomId]);
    return row?.facilitator_id == null ? null : num(row.facilitator_id);
  }

  /** Makes `to` the facilitator if the facilitator is still `from` (null: nobody); true when it changed. */
  async handOver(roomId: number, from: number | null, to: number | null): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const room = await this.lockRoom(tx, roomId);
      if (room === undefined || room.facilitatorId !== from) return false;
      await tx.query("UPDATE rooms SET facilitator_id = ? WHERE id = ?", [to, roomId]);
      return true;
    });
  }

  /** Adds an action item (while the stage allows it); `ownerId` null leaves it unassigned. */
  addAction(roomId: number, user: User, body: string, ownerId: number | null, allowed: (stage: Stage) => boolean): Promise<Outcome<ActionItem>> {
    return this.db.transaction(async (tx) => {
      const room = await this.lockRoom(tx, roomId);
      if (room === undefined) return refuse("not_found");
      if (!allowed(room.stage)) return refuse("stage_closed");
      const [row] = await tx.query<Row>("INSERT INTO retro_actions (room_id, user_id, owner_id, body, inserted_at) VALUES (?, ?, ?, ?, ?) RETURNING id",
        [roomId, user.id, ownerId, body, Date.now()]);
      return done((await new RetroStore(tx).actions(roomId, num(row!.id)))[0]!);
    });
  }

  /**
   * Edits (new body and owner) or deletes (`change` null) an action item: its author or the
   * facilitator may.
   */
  changeAction(roomId: number, user: User, actionId: number, change: { body: string; ownerId: number | null } | null): Promise<Outcome<ActionItem | null>> {
    return this.db.transaction(async (tx) => {
      const room = await this.lockRoom(tx, roomId);
      if (room === undefined) return refuse("not_found");
      const [row] = await tx.query<Row>("SELECT user_id FROM retro_actions WHERE id = ? AND room_id = ?", [actionId, roomId]);
      if (row === undefined) return refuse("not_found");
      if (num(row.user_id) !== user.id && room.facilitatorId !== user.id) return refuse("not_yours");
      if (change === null) {
        await tx.query("DELETE FROM retro_actions WHERE id = ?", [actionId]);
        return done(null);
      }
      await tx.query("UPDATE retro_actions SET body = ?, owner_id = ? WHERE id = ?", [change.body, change.ownerId, actionId]);
      return done((await new RetroStore(tx).actions(roomId, actionId))[0]!);
    });
  }

  /** Up to `limit` messages older than `beforeId` (all when null), oldest first, and whether there are more before them. */
  async messagesBefore(roomId: number, beforeId: number | null, limit: number): Promise<{ messages: Message[]; more: boolean }> {
    const rows = await this.db.query<Row>(
      `SELECT m.id, u.username, m.body, m.inserted_at FROM messages m JOIN users u ON u.id = m.user_id
       WHERE m.room_id = ?${beforeId === null ? "" : " AND m.id < ?"} ORDER BY m.id DESC LIMIT ?`,
      beforeId === null ? [roomId, limit + 1] : [roomId, beforeId, limit + 1]);
    const more = rows.length > limit;
    const page = rows.slice(0, limit).reverse();
    return { messages: page.map((row) => ({ id: num(row.id), user: String(row.username), body: String(row.body), inserted_at: num(row.inserted_at) })), more };
  }
}
