/**
 * Schema migrations, applied in order on start-up and recorded in `schema_migrations`, for
 * SQLite and PostgreSQL alike. Ids are auto-incrementing integers; times are integer
 * milliseconds since the epoch. Add a migration by appending to the list; never edit one that
 * has shipped.
 */
import type { Db } from "./db.js";

type Dialect = (db: Db) => string;

/** `id` column definition per engine. */
const id: Dialect = (db) => (db.kind === "sqlite" ? "id INTEGER PRIMARY KEY AUTOINCREMENT" : "id BIGSERIAL PRIMARY KEY");

/** The migrations, in order. */
export const migrations: ReadonlyArray<{ version: number; name: string; up: (db: Db) => string[] }> = [
  {
    version: 1,
    name: "users, rooms, messages, videos, annotations, cards",
    up: (db) => [
      `CREATE TABLE users (${id(db)}, username TEXT NOT NULL UNIQUE, password_hash TEXT NOT NULL, inserted_at BIGINT NOT NULL)`,
      `CREATE TABLE rooms (${id(db)}, name TEXT NOT NULL UNIQUE, inserted_at BIGINT NOT NULL)`,
      `CREATE TABLE messages (${id(db)}, room_id BIGINT NOT NULL REFERENCES rooms(id), user_id BIGINT NOT NULL REFERENCES users(id),
        body TEXT NOT NULL, inserted_at BIGINT NOT NULL)`,
      "CREATE INDEX messages_room ON messages (room_id, id)",
      `CREATE TABLE videos (${id(db)}, title TEXT NOT NULL, url TEXT NOT NULL, user_id BIGINT REFERENCES users(id), inserted_at BIGINT NOT NULL)`,
      `CREATE TABLE annotations (${id(db)}, video_id BIGINT NOT NULL REFERENCES videos(id), user_id BIGINT NOT NULL REFERENCES users(id),
        body TEXT NOT NULL, at BIGINT NOT NULL, inserted_at BIGINT NOT NULL)`,
      "CREATE INDEX annotations_video ON annotations (video_id, id)",
      `CREATE TABLE cards (${id(db)}, party TEXT NOT NULL, title TEXT NOT NULL, description TEXT NOT NULL,
        estimate INTEGER, inserted_at BIGINT NOT NULL)`,
      "CREATE INDEX cards_party ON cards (party, id)",
    ],
  },
  {
    version: 20,
    name: "retro boards: stage, facilitator, ideas, votes, action items",
    up: (db) => [
      "ALTER TABLE rooms ADD COLUMN stage TEXT NOT NULL DEFAULT 'brainstorm'",
      "ALTER TABLE rooms ADD COLUMN facilitator_id BIGINT REFERENCES users(id)",
      `CREATE TABLE retro_ideas (${id(db)}, room_id BIGINT NOT NULL REFERENCES rooms(id), user_id BIGINT NOT NULL REFERENCES users(id),
        category TEXT NOT NULL, body TEXT NOT NULL, inserted_at BIGINT NOT NULL, updated_at BIGINT NOT NULL)`,
      "CREATE INDEX retro_ideas_room ON retro_ideas (room_id, id)",
      `CREATE TABLE retro_votes (${id(db)}, idea_id BIGINT NOT NULL REFERENCES retro_ideas(id) ON DELETE CASCADE,
        room_id BIGINT NOT NULL REFERENCES rooms(id), user_id BIGINT NOT NULL REFERENCES users(id), inserted_at BIGINT NOT NULL)`,
      "CREATE INDEX retro_votes_room_user ON retro_votes (room_id, user_id)",
      "CREATE INDEX retro_votes_idea ON retro_votes (idea_id)",
      `CREATE TABLE retro_actions (${id(db)}, room_id BIGINT NOT NULL REFERENCES rooms(id), user_id BIGINT NOT NULL REFERENCES users(id),
        owner_id BIGINT REFERENCES users(id), body TEXT NOT NULL, inserted_at BIGINT NOT NULL)`,
      "CREATE INDEX retro_actions_room ON retro_actions (room_id, id)",
    ],
  },
  {
    version: 21,
    name: "annotations: replies, edits, deletions",
    up: () => [
      "ALTER TABLE annotations ADD COLUMN parent_id BIGINT REFERENCES annotations(id)",
      "ALTER TABLE annotations ADD COLUMN updated_at BIGINT",
      "ALTER TABLE annotations ADD COLUMN deleted_at BIGINT",
      "CREATE INDEX annotations_parent ON annotations (parent_id)",
    ],
  },
  {
    version: 22,
    name: "sessions: one row per sign-in, revoked on sign-out or by an admin",
    up: () => [
      `CREATE TABLE sessions (id TEXT PRIMARY KEY, user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        inserted_at BIGINT NOT NULL, revoked_at BIGINT, revoked_by TEXT)`,
      "CREATE INDEX sessions_user ON sessions (user_id)",
    ],
  },
  {
    version: 23,
    name: "users: unique case-insensitively after NFKC (username_key); later duplicates renamed <name>-<id>",
    up: () => [
      "ALTER TABLE users ADD COLUMN username_key TEXT",
      `UPDATE users SET username = username || '-' || id
       WHERE EXISTS (SELECT 1 FROM users o WHERE LOWER(o.username) = LOWER(users.username) AND o.id < users.id)`,
      "UPDATE users SET username_key = LOWER(username)",
      "CREATE UNIQUE INDEX users_by_username_key ON users (username_key)",
    ],
  },
  {
    version: 24,
    name: "parties: one row per party, so its sample cards are created once",
    up: () => ["CREATE TABLE parties (name TEXT PRIMARY KEY, inserted_at BIGINT NOT NULL)"],
  },
  {
    version: 30,
    name: "party rounds in the database (card on the table, driver, votes, outcome, timer, deck); card order; labelled estimates",
    up: () => [
      "INSERT INTO parties (name, inserted_at) SELECT DISTINCT party, 0 FROM cards WHERE party NOT IN (SELECT name FROM parties)",
      "ALTER TABLE parties ADD COLUMN card_id BIGINT REFERENCES cards(id) ON DELETE SET NULL",
      "ALTER TABLE parties ADD COLUMN driver TEXT",
      "ALTER TABLE parties ADD COLUMN votes TEXT NOT NULL DEFAULT '{}'",
      "ALTER TABLE parties ADD COLUMN outcome TEXT",
      "ALTER TABLE parties ADD COLUMN deadline BIGINT",
      "ALTER TABLE parties ADD COLUMN deck TEXT",
      "ALTER TABLE cards ADD COLUMN rank BIGINT",
      "UPDATE cards SET rank = id",
      "ALTER TABLE cards ADD COLUMN estimate_value TEXT",
      "ALTER TABLE cards ADD COLUMN estimate_stats TEXT",
      "UPDATE cards SET estimate_value = CAST(estimate AS TEXT) WHERE estimate IS NOT NULL",
      "CREATE INDEX cards_party_rank ON cards (party, rank, id)",
    ],
  },
];

/** Applies every migration (of `list`, by default all) not yet applied; returns the versions it applied. */
export async function migrate(db: Db, list: typeof migrations = migrations): Promise<number[]> {
  await db.query("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)");
  const applied = new Set((await db.query<{ version: number }>("SELECT version FROM schema_migrations")).map((r) => Number(r.version)));
  const done: number[] = [];
  for (const migration of list) {
    if (applied.has(migration.version)) continue;
    await db.transaction(async (tx) => {
      for (const statement of migration.up(tx)) await tx.query(statement);
      await tx.query("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)", [migration.version, migration.name, Date.now()]);
    });
    done.push(migration.version);
  }
  return done;
}
