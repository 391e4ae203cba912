/**
 * The demo's (`npm start`, apps/demo) accounts for the scale scenario, made the way its own
 * tests make them: through its Store on a fresh SQLite database under a temporary DATA_DIR,
 * with no browser and no password hashing — one user `scale<i>` with one open session per
 * connection, plus the admin `admin` (whose session token calls `POST /api/admin/broadcast`).
 * Each connection's socket token is the demo's `signToken(secret, "socket", claims)` of its
 * session, as the pages get from `/api/socket-token`. The users' password hash is not a valid
 * scrypt hash, so nobody can sign in as them.
 *
 * The demo's modules are imported from its build (apps/demo/dist) at run time, so the bench
 * does not depend on the app's package.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

/** The parts of the demo's modules the seed uses. */
interface DemoDb {
  transaction<T>(fn: (db: DemoDb) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}
interface DemoStore {
  readonly db: DemoDb;
  createUser(username: string, passwordHash: string): Promise<{ id: number; username: string } | null>;
  openSession(sessionId: string, userId: number): Promise<void>;
}
interface DemoModules {
  openStore(config: { databaseUrl: undefined; dataDir: string }): Promise<DemoStore>;
  Store: new (db: DemoDb) => DemoStore;
  signToken(secret: string, kind: "session" | "socket", claims: { userId: number; sessionId: string }): string;
}

/** What the seeded demo needs to run and be driven. */
export interface DemoSeed {
  dataDir: string;
  secret: string;
  /** The socket token of connection i. */
  tokens: string[];
  /** The admin's session token (Bearer) for `POST /api/admin/broadcast`. */
  adminToken: string;
}

async function modules(repoRoot: string): Promise<DemoModules> {
  const dist = join(repoRoot, "apps", "demo", "dist", "src");
  const load = async (file: string): Promise<Record<string, unknown>> => import(pathToFileURL(join(dist, file)).href) as Promise<Record<string, unknown>>;
  const [app, store, accounts] = await Promise.all([load("app.js"), load("db/store.js"), load("accounts.js")]);
  return { openStore: app.openStore, Store: store.Store, signToken: accounts.signToken } as DemoModules;
}

/** Creates a fresh DATA_DIR with `connections` users and sessions and the admin's; the database is closed again. */
export async function seedDemo(repoRoot: string, connections: number): Promise<DemoSeed> {
  const demo = await modules(repoRoot);
  const dataDir = mkdtempSync(join(tmpdir(), "cinder-scale-demo-"));
  const secret = `scale bench secret ${process.pid} ${Date.now()}`;
  const store = await demo.openStore({ databaseUrl: undefined, dataDir });
  const tokens: string[] = new Array<string>(connections);
  let adminToken = "";
  try {
    await store.db.transaction(async (tx) => {
      const inTx = new demo.Store(tx);
      const admin = await inTx.createUser("admin", "x");
      if (admin === null) throw new Error("the fresh demo database already has an admin");
      await inTx.openSession("scale-admin", admin.id);
      adminToken = demo.signToken(secret, "session", { userId: admin.id, sessionId: "scale-admin" });
      for (let i = 0; i < connections; i++) {
        const user = await inTx.createUser(`scale${i}`, "x");
        if (user === null) throw new Error(`user scale${i} exists already`);
        const sessionId = `scale-${i}`;
        await inTx.openSession(sessionId, user.id);
        tokens[i] = demo.signToken(secret, "socket", { userId: user.id, sessionId });
      }
    });
  } finally {
    await store.db.close();
  }
  return { dataDir, secret, tokens, adminToken };
}
