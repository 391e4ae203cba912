/**
 * The operator's command line: `node apps/demo/dist/src/cli.js set-password <username>` (or
 * `npm run -w @cinder/demo admin -- set-password <username>`) sets a user's password, creating the
 * account when it does not exist — the way to make an admin (a name in ADMIN_USERNAMES, which
 * nobody can sign up as) when ADMIN_PASSWORD is not used. The password comes from the
 * CINDER_PASSWORD environment variable or the first line of standard input; the database from
 * the same environment as the server (DATABASE_URL, DATA_DIR). Every session of the user is
 * revoked.
 */
import { parseArgs } from "node:util";
import { createInterface } from "node:readline";
import { hashPassword, readCredentials } from "./accounts.js";
import { openStore } from "./app.js";
import { loadConfig } from "./config.js";

const USAGE = "usage: cli.js set-password <username>   (password from CINDER_PASSWORD or stdin)";

async function firstLine(): Promise<string> {
  const lines = createInterface({ input: process.stdin });
  for await (const line of lines) {
    lines.close();
    return line;
  }
  return "";
}

const { positionals } = parseArgs({ allowPositionals: true, options: {} });
const [command, name] = positionals;
if (command !== "set-password" || name === undefined) {
  console.error(USAGE);
  process.exit(2);
}
const password = process.env.CINDER_PASSWORD ?? await firstLine();
const credentials = readCredentials({ username: name, password });
if (!credentials.ok) {
  console.error(credentials.error);
  process.exit(2);
}
const store = await openStore(loadConfig());
try {
  const hash = await hashPassword(credentials.password);
  const existing = await store.userByName(credentials.username);
  if (existing === undefined) {
    await store.createUser(credentials.username, hash);
    console.log(`created ${credentials.username}`);
  } else {
    await store.setPassword(existing.id, hash);
    const revoked = await store.revokeUserSessions(existing.id, "admin");
    console.log(`set the password of ${existing.username} (${revoked.length} sessions signed out)`);
  }
} finally {
  await store.db.close();
}
