/**
 * The database connection the apps' data layer runs on: SQLite (embedded, a file under
 * DATA_DIR) by default, PostgreSQL when DATABASE_URL is set. Both are reached through one small
 * interface — parameterised queries with `?` placeholders, rewritten to `$n` for PostgreSQL — so
 * the store above them is written once.
 */
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import pg from "pg";

/** A database the store can query. */
export interface Db {
  /** Which engine this is. */
  readonly kind: "sqlite" | "postgres";
  /** Runs a query with `?` placeholders; returns its rows. */
  query<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  /** Runs `fn` in a transaction (committed when it resolves, rolled back when it throws). */
  transaction<T>(fn: (db: Db) => Promise<T>): Promise<T>;
  /** Closes the connection(s). */
  close(): Promise<void>;
}

/** Opens (creating it if needed) a SQLite database file. */
export function openSqlite(file: string): Db {
  if (file !== ":memory:") mkdirSync(dirname(file), { recursive: true });
  const database = new Database(file);
  database.pragma("journal_mode = WAL");
  database.pragma("foreign_keys = ON");
  database.pragma("busy_timeout = 5000");
  let queue: Promise<unknown> = Promise.resolve();
  const db: Db = {
    kind: "sqlite",
    async query<T>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
      const statement = database.prepare(sql);
      if (statement.reader) return statement.all(...params) as T[];
      statement.run(...params);
      return [];
    },
    transaction<T>(fn: (db: Db) => Promise<T>): Promise<T> {
      // Transactions are serialized, so an await inside one never interleaves another's statements.
      const run = queue.then(async () => {
        database.exec("BEGIN IMMEDIATE");
        try {
          const result = await fn(db);
          database.exec("COMMIT");
          return result;
        } catch (error) {
          database.exec("ROLLBACK");
          throw error;
        }
      });
      queue = run.catch(() => undefined);
      return run;
    },
    async close() {
      database.close();
    },
  };
  return db;
}

/** Rewrites `?` placeholders to PostgreSQL's `$1, $2, ...` (our SQL has no `?` in literals). */
function numbered(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

// BIGINT columns (ids and millisecond timestamps) as numbers: every value we store fits in 2^53.
pg.types.setTypeParser(20, (value: string) => Number(value));

/** Connects to PostgreSQL; `schema` (optional) is created if needed and used as the search path. */
export async function openPostgres(url: string, schema?: string): Promise<Db> {
  if (schema !== undefined && !/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error(`invalid schema name ${schema}`);
  const pool = new pg.Pool({
    connectionString: url,
    max: 10,
    ...(schema !== undefined ? { options: `-c search_path=${schema}` } : {}),
  });
  pool.on("error", () => { /* a broken idle client is replaced; queries report their own errors */ });
  if (schema !== undefined) await pool.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
  const on = (client: pg.Pool | pg.PoolClient): Db => ({
    kind: "postgres",
    async query<T>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
      const result = await client.query(numbered(sql), params as unknown[]);
      return result.rows as T[];
    },
    async transaction<T>(fn: (db: Db) => Promise<T>): Promise<T> {
      if (client !== pool) return fn(on(client));
      const connection = await pool.connect();
      try {
        await connection.query("BEGIN");
        const result = await fn(on(connection));
        await connection.query("COMMIT");
        return result;
      } catch (error) {
        await connection.query("ROLLBACK").catch(() => undefined);
        throw error;
      } finally {
        connection.release();
      }
    },
    async close() {
      await pool.end();
    },
  });
  return on(pool);
}
