/**
 * The apps' data: users, retro rooms and their messages, videos and their annotations, and the
 * pointing party (in `party.ts`). Every method is one or two parameterised queries on a `Db`, so the
 * same store runs on SQLite and PostgreSQL.
 */
import type { Db } from "./db.js";
import { PartyStore } from "./party.js";
import { RetroStore } from "./retro.js";

/** A signed-up user. */
export interface User {
  id: number;
  username: string;
}

/** Why a session no longer works: its user signed out, or an admin signed them out. */
export type RevokedBy = "user" | "admin";

/** What a session id stands for now: its user, or why not. */
export type SessionState = { ok: true; user: User } | { ok: false; revokedBy: RevokedBy | "unknown" };

/** A retro room's chat message, as the channel sends it. */
export interface Message {
  id: number;
  user: string;
  body: string;
  inserted_at: number;
}

/** A video that can be annotated. */
export interface Video {
  id: number;
  title: string;
  url: string;
}

/** An annotation at a playback time (`at`, ms); a reply has its parent's id and time. */
export interface Annotation {
  id: number;
  body: string;
  at: number;
  user: User;
  parent_id: number | null;
  edited: boolean;
}

/** What changed in a video's annotations (up to some id) since some time. */
export interface AnnotationChanges {
  changed: Annotation[];
  deleted: number[];
}

type Row = Record<string, unknown>;

/** What makes two usernames the same: equal after Unicode NFKC and lower-casing ("Admin", "ａｄｍｉｎ", "admin"). */
export function usernameKey(username: string): string {
  return username.normalize("NFKC").toLowerCase();
}

const num = (value: unknown): number => Number(value);

/** The data layer of the apps. */
export class Store {
  /** The retro boards (ideas, votes, action items, stage, facilitator) and chat history pages. */
  readonly retro: RetroStore;
  /** The pointing parties (backlogs, decks and rounds in progress). */
  readonly party: PartyStore;

  constructor(readonly db: Db) {
    this.retro = new RetroStore(db);
    this.party = new PartyStore(db);
  }

  /** Creates a user; returns null when the username is taken. */
  async createUser(username: string, passwordHash: string): Promise<User | null> {
    try {
      const rows = await this.db.query<Row>(
        "INSERT INTO users (username, username_key, password_hash, inserted_at) VALUES (?, ?, ?, ?) RETURNING id, username",
        [username, usernameKey(username), passwordHash, Date.now()]);
      return { id: num(rows[0]!.id), username: String(rows[0]!.username) };
    } catch (error) {
      if (/unique/i.test((error as Error).message)) return null;
      throw error;
    }
  }

  /** Replaces a user's password hash. */
  async setPassword(userId: number, passwordHash: string): Promise<void> {
    await this.db.query("UPDATE users SET password_hash = ? WHERE id = ?", [passwordHash, userId]);
  }

  /** Opens a session for a user. */
  async openSession(sessionId: string, userId: number): Promise<void> {
    await this.db.query("INSERT INTO sessions (id, user_id, inserted_at) VALUES (?, ?, ?)", [sessionId, userId, Date.now()]);
  }

  /** The user of an open session of `userId`, or why there is none (unknown, revoked, user deleted). */
  async session(sessionId: string, userId: number): Promise<SessionState> {
    const [row] = await this.db.query<Row>(
      `SELECT s.revoked_at, s.revoked_by, u.id, u.username FROM sessions s JOIN users u ON u.id = s.user_id
       WHERE s.id = ? AND s.user_id = ?`, [sessionId, userId]);
    if (row === undefined) return { ok: false, revokedBy: "unknown" };
    if (row.revoked_at !== null) return { ok: false, revokedBy: row.revoked_by === "admin" ? "admin" : "user" };
    return { ok: true, user: { id: num(row.id), username: String(row.username) } };
  }

  /** Revokes one session (sign-out). */
  async revokeSession(sessionId: string, by: RevokedBy): Promise<void> {
    await this.db.query("UPDATE sessions SET revoked_at = ?, revoked_by = ? WHERE id = ? AND revoked_at IS NULL", [Date.now(), by, sessionId]);
  }

  /** Revokes every open session of a user; returns their ids. */
  async revokeUserSessions(userId: number, by: RevokedBy): Promise<string[]> {
    return this.db.transaction(async (tx) => {
      const rows = await tx.query<Row>("SELECT id FROM sessions WHERE user_id = ? AND revoked_at IS NULL", [userId]);
      await tx.query("UPDATE sessions SET revoked_at = ?, revoked_by = ? WHERE user_id = ? AND revoked_at IS NULL", [Date.now(), by, userId]);
      return rows.map((row) => String(row.id));
    });
  }

  /** The ids of the sessions of a user opened since `since` (ms), revoked or not. */
  async sessionIds(userId: number, since = 0): Promise<string[]> {
    const rows = await this.db.query<Row>("SELECT id FROM sessions WHERE user_id = ? AND inserted_at >= ? ORDER BY inserted_at", [userId, since]);
    return rows.map((row) => String(row.id));
  }

  /** A user and their password hash, by username (any case or Unicode-compatible spelling). */
  async userWithHash(username: string): Promise<(User & { passwordHash: string }) | undefined> {
    const [row] = await this.db.query<Row>("SELECT id, username, password_hash FROM users WHERE username_key = ?", [usernameKey(username)]);
    return row === undefined ? undefined : { id: num(row.id), username: String(row.username), passwordHash: String(row.password_hash) };
  }

  /** A user by id. */
  async user(id: number): Promise<User | undefined> {
    const [row] = await this.db.query<Row>("SELECT id, username FROM users WHERE id = ?", [id]);
    return row === undefined ? undefined : { id: num(row.id), username: String(row.username) };
  }

  /** A user by username (any case or Unicode-compatible spelling). */
  async userByName(username: string): Promise<User | undefined> {
    const [row] = await this.db.query<Row>("SELECT id, username FROM users WHERE username_key = ?", [usernameKey(username)]);
    return row === undefined ? undefined : { id: num(row.id), username: String(row.username) };
  }

  /** Users by id, in one query. */
  async usersByIds(ids: readonly number[]): Promise<Map<number, User>> {
    const unique = [...new Set(ids.filter((id) => Number.isSafeInteger(id)))];
    if (unique.length === 0) return new Map();
    const rows = await this.db.query<Row>(`SELECT id, username FROM users WHERE id IN (${unique.map(() => "?").join(", ")})`, unique);
    return new Map(rows.map((row) => [num(row.id), { id: num(row.id), username: String(row.username) }]));
  }

  /** The room named `name`, created if it does not exist. */
  async room(name: string): Promise<number> {
    const [existing] = await this.db.query<Row>("SELECT id FROM rooms WHERE name = ?", [name]);
    if (existing !== undefined) return num(existing.id);
    await this.db.query(this.db.kind === "sqlite"
      ? "INSERT OR IGNORE INTO rooms (name, inserted_at) VALUES (?, ?)"
      : "INSERT INTO rooms (name, inserted_at) VALUES (?, ?) ON CONFLICT (name) DO NOTHING", [name, Date.now()]);
    const [row] = await this.db.query<Row>("SELECT id FROM rooms WHERE name = ?", [name]);
    return num(row!.id);
  }

  /** Stores a message. */
  async addMessage(roomId: number, user: User, body: string): Promise<Message> {
    const insertedAt = Date.now();
    const [row] = await this.db.query<Row>("INSERT INTO messages (room_id, user_id, body, inserted_at) VALUES (?, ?, ?, ?) RETURNING id",
      [roomId, user.id, body, insertedAt]);
    return { id: num(row!.id), user: user.username, body, inserted_at: insertedAt };
  }

  /** A room's last `limit` messages, oldest first. */
  async lastMessages(roomId: number, limit = 50): Promise<Message[]> {
    const rows = await this.db.query<Row>(
      `SELECT m.id, u.username, m.body, m.inserted_at FROM messages m JOIN users u ON u.id = m.user_id
       WHERE m.room_id = ? ORDER BY m.id DESC LIMIT ?`, [roomId, limit]);
    return rows.reverse().map((row) => ({ id: num(row.id), user: String(row.username), body: String(row.body), inserted_at: num(row.inserted_at) }));
  }

  /** Every video, newest first. */
  async videos(): Promise<Video[]> {
    const rows = await this.db.query<Row>("SELECT id, title, url FROM videos ORDER BY id DESC");
    return rows.map((row) => ({ id: num(row.id), title: String(row.title), url: String(row.url) }));
  }

  /** A video by id. */
  async video(id: number): Promise<Video | undefined> {
    const [row] = await this.db.query<Row>("SELECT id, title, url FROM videos WHERE id = ?", [id]);
    return row === undefined ? undefined : { id: num(row.id), title: String(row.title), url: String(row.url) };
  }

  /** Adds a video. */
  async addVideo(title: string, url: string, userId: number | null): Promise<Video> {
    const [row] = await this.db.query<Row>("INSERT INTO videos (title, url, user_id, inserted_at) VALUES (?, ?, ?, ?) RETURNING id",
      [title, url, userId, Date.now()]);
    return { id: num(row!.id), title, url };
  }

  /**
   * Stores an annotation, or a reply to `parentId` (a live top-level annotation of the same
   * video; the reply takes its time). Undefined when the parent is not found.
   */
  async addAnnotation(videoId: number, user: User, body: string, at: number, parentId: number | null = null): Promise<Annotation | undefined> {
    if (parentId !== null) {
      const [parent] = await this.db.query<Row>(
        "SELECT at FROM annotations WHERE id = ? AND video_id = ? AND parent_id IS NULL AND deleted_at IS NULL", [parentId, videoId]);
      if (parent === undefined) return undefined;
      at = num(parent.at);
    }
    const [row] = await this.db.query<Row>(
      "INSERT INTO annotations (video_id, user_id, body, at, parent_id, inserted_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
      [videoId, user.id, body, at, parentId, Date.now()]);
    return { id: num(row!.id), body, at, user, parent_id: parentId, edited: false };
  }

  /** The annotations of a video matching `where` (on `a`), ordered by playback time. */
  private async annotationsWhere(where: string, params: unknown[]): Promise<Annotation[]> {
    const rows = await this.db.query<Row>(
      `SELECT a.id, a.body, a.at, a.parent_id, a.updated_at, u.id AS user_id, u.username FROM annotations a JOIN users u ON u.id = a.user_id
       WHERE ${where} ORDER BY a.at, a.id`, params);
    return rows.map((row) => ({
      id: num(row.id), body: String(row.body), at: num(row.at), user: { id: num(row.user_id), username: String(row.username) },
      parent_id: row.parent_id == null ? null : num(row.parent_id), edited: row.updated_at != null,
    }));
  }

  /** A video's live annotations with an id above `afterId`, ordered by playback time. */
  annotations(videoId: number, afterId = 0): Promise<Annotation[]> {
    return this.annotationsWhere("a.video_id = ? AND a.id > ? AND a.deleted_at IS NULL", [videoId, afterId]);
  }

  /** Annotations up to `upToId` edited or deleted at `since` (ms) or later: what a rejoining page missed. */
  async annotationChanges(videoId: number, upToId: number, since: number): Promise<AnnotationChanges> {
    const changed = await this.annotationsWhere("a.video_id = ? AND a.id <= ? AND a.updated_at >= ? AND a.deleted_at IS NULL", [videoId, upToId, since]);
    const deleted = await this.db.query<Row>("SELECT id FROM annotations WHERE video_id = ? AND id <= ? AND deleted_at >= ? ORDER BY id",
      [videoId, upToId, since]);
    return { changed, deleted: deleted.map((row) => num(row.id)) };
  }

  /**
   * Edits (a new body) or deletes (body null, with its replies) one's own live annotation.
   * Returns the edited annotation or the deleted ids, or why not.
   */
  async changeAnnotation(videoId: number, user: User, id: number, body: string | null): Promise<
    { ok: true; edited: Annotation } | { ok: true; deleted: number[] } | { ok: false; reason: "not_found" | "not_yours" }> {
    return this.db.transaction(async (tx) => {
      const [row] = await tx.query<Row>("SELECT user_id FROM annotations WHERE id = ? AND video_id = ? AND deleted_at IS NULL", [id, videoId]);
      if (row === undefined) return { ok: false, reason: "not_found" };
      if (num(row.user_id) !== user.id) return { ok: false, reason: "not_yours" };
      const now = Date.now();
      if (body !== null) {
        await tx.query("UPDATE annotations SET body = ?, updated_at = ? WHERE id = ?", [body, now, id]);
        const [edited] = await new Store(tx).annotationsWhere("a.id = ?", [id]);
        return { ok: true, edited: edited! };
      }
      const gone = await tx.query<Row>("SELECT id FROM annotations WHERE (id = ? OR parent_id = ?) AND deleted_at IS NULL ORDER BY id", [id, id]);
      await tx.query("UPDATE annotations SET body = '', deleted_at = ? WHERE (id = ? OR parent_id = ?) AND deleted_at IS NULL", [now, id, id]);
      return { ok: true, deleted: gone.map((g) => num(g.id)) };
    });
  }
}
