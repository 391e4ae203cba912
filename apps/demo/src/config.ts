/**
 * The apps' configuration, from the environment: PORT (4000), DATA_DIR (./data), DATABASE_URL
 * (PostgreSQL; SQLite under DATA_DIR when unset), SECRET_KEY_BASE (else generated once and kept
 * under DATA_DIR), ADMIN_USERNAMES (comma-separated; "admin"), CINDER_REDIS_URL (a cluster),
 * METRICS_TOKEN (grants GET /metrics from anywhere; without it, loopback only), RETRO_VOTE_BUDGET
 * (votes per person per retro room; 3), ADMIN_PASSWORD (creates the account `admin` with it at
 * start-up, or keeps it when it exists; without it no admin exists until `npm run -w apps/demo
 * admin -- set-password <username>`), VIDEO_POSITION_INTERVAL_MS (how often a watcher's playback
 * position may change their presence; 1000), SIGNIN_MAX_PER_ACCOUNT (10) and SIGNIN_MAX_PER_ADDRESS
 * (50) sign-in attempts per SIGNIN_WINDOW_S (900), HASH_CONCURRENCY (password hashes at once; 2),
 * PARTY_LEAVE_GRACE_MS (how long a pointing-party member may be gone, e.g. a reload, before they
 * count as having left; 1500), PRESENCE_LEAVE_GRACE_MS (how long a user with no page left stays
 * online before "left" notices and online counts drop them; 3000).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { randomBytes } from "node:crypto";

/** The apps' settings. */
export interface Config {
  port: number;
  host: string | undefined;
  dataDir: string;
  databaseUrl: string | undefined;
  secretKeyBase: string;
  /** Usernames with admin rights; nobody can sign up as one of them. */
  admins: ReadonlySet<string>;
  /** Sign-in attempts per account per window (SIGNIN_MAX_PER_ACCOUNT; 10). */
  signInPerAccount?: number | undefined;
  /** Sign-in attempts per client address per window (SIGNIN_MAX_PER_ADDRESS; 50). */
  signInPerAddress?: number | undefined;
  /** The sign-in throttle's window in seconds (SIGNIN_WINDOW_S; 900). */
  signInWindowS?: number | undefined;
  /** Password hashes computed at once, each on a hashing thread of its own (HASH_CONCURRENCY; 2). */
  hashConcurrency?: number | undefined;
  /** When set, the account `admin` is created with this password at start-up (kept when it exists). */
  adminPassword?: string | undefined;
  redisUrl: string | undefined;
  /** A token that grants `GET /metrics` from anywhere (without it: loopback only). */
  metricsToken?: string | undefined;
  /** Votes per person per retro room (default 3). */
  retroVoteBudget?: number | undefined;
  /** The shortest time between two playback-position updates of a watcher's presence (ms, default 1000). */
  positionIntervalMs?: number | undefined;
  /** How long a pointing-party member may be gone before they count as having left (ms, default 1500). */
  partyLeaveGraceMs?: number | undefined;
  /** How long a user whose last page closed stays online before they count as gone (ms, default 3000). */
  presenceLeaveGraceMs?: number | undefined;
}

/** A positive integer setting from the environment, or undefined when unset. */
function positiveInt(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === "") return undefined;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < 1) throw new Error(`${name} must be a positive integer, not ${raw}`);
  return value;
}

/** Reads the secret from DATA_DIR, creating it on first start. */
function storedSecret(dataDir: string): string {
  const file = join(dataDir, "secret_key_base");
  if (existsSync(file)) return readFileSync(file, "utf8").trim();
  mkdirSync(dataDir, { recursive: true });
  const secret = randomBytes(48).toString("base64url");
  writeFileSync(file, secret, { mode: 0o600 });
  return secret;
}

/** Loads the configuration from `env`. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const dataDir = resolve(env.DATA_DIR ?? "./data");
  const secretKeyBase = env.SECRET_KEY_BASE ?? storedSecret(dataDir);
  if (secretKeyBase.length < 20) throw new Error("SECRET_KEY_BASE must be at least 20 characters");
  const port = Number(env.PORT ?? 4000);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`invalid PORT ${env.PORT}`);
  return {
    port,
    host: env.HOST,
    dataDir,
    databaseUrl: env.DATABASE_URL || undefined,
    secretKeyBase,
    admins: new Set((env.ADMIN_USERNAMES ?? "admin").split(",").map((name) => name.trim()).filter(Boolean)),
    adminPassword: env.ADMIN_PASSWORD || undefined,
    signInPerAccount: positiveInt(env, "SIGNIN_MAX_PER_ACCOUNT"),
    signInPerAddress: positiveInt(env, "SIGNIN_MAX_PER_ADDRESS"),
    signInWindowS: positiveInt(env, "SIGNIN_WINDOW_S"),
    hashConcurrency: positiveInt(env, "HASH_CONCURRENCY"),
    redisUrl: env.CINDER_REDIS_URL || undefined,
    metricsToken: env.METRICS_TOKEN || undefined,
    retroVoteBudget: positiveInt(env, "RETRO_VOTE_BUDGET"),
    positionIntervalMs: positiveInt(env, "VIDEO_POSITION_INTERVAL_MS"),
    partyLeaveGraceMs: positiveInt(env, "PARTY_LEAVE_GRACE_MS"),
    presenceLeaveGraceMs: positiveInt(env, "PRESENCE_LEAVE_GRACE_MS"),
  };
}
