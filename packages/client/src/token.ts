/**
 * Token refresh on a live connection, a Cinder extension (docs/protocol.md §11). When the
 * server's `connect` gave the token an expiry, the server pushes `access_token_expiry`
 * (`{expires_at, expires_in}`) on the `phoenix` topic; before it passes, the client sends a new
 * token in an `access_token` frame and the connection (and every channel) stays as it is. These
 * helpers work with Cinder's `Socket` and with phoenix.js's: `refreshAccessToken` sends one
 * token, `keepTokenFresh` refreshes ahead of every expiry through a callback (what the
 * `refreshToken` option of Cinder's `Socket` uses).
 */
import { ACCESS_TOKEN_EVENTS, CHANNEL_EVENTS, PHOENIX_TOPIC } from "@cinder/protocol";

/** The messages the helpers read: phoenix.js's and Cinder's socket `onMessage` both give them. */
export interface TokenMessage {
  readonly topic: string;
  readonly event: string;
  readonly payload: unknown;
  readonly ref: string | null;
}

/** The part of a socket the refresh uses (phoenix.js's `Socket` and Cinder's both have it). */
export interface RefreshableSocket {
  push(message: { topic: string; event: string; payload: unknown; ref: string | null; join_ref: string | null }): void;
  makeRef(): string;
  onMessage(callback: (message: TokenMessage) => void): string;
  onClose(callback: () => void): string;
  off(refs: string[]): void;
}

/** A token's expiry as the server states it. */
export interface TokenExpiry {
  /** Epoch ms (the server's clock), or null when the connection no longer expires. */
  readonly expiresAt: number | null;
  /** Milliseconds left when the server sent it, or null. */
  readonly expiresIn: number | null;
}

/** The server refused a refreshed token (it closes the socket with 4003), or did not answer in time. */
export class TokenRefreshError extends Error {
  constructor(
    /** The server's reason (`"token refused"`, `"token revoked"`...), or `"timeout"`. */
    readonly reason: string,
  ) {
    super(`token refresh failed: ${reason}`);
    this.name = "TokenRefreshError";
  }
}

function readExpiry(payload: unknown): TokenExpiry {
  const { expires_at: at, expires_in: inMs } = (payload ?? {}) as { expires_at?: unknown; expires_in?: unknown };
  return { expiresAt: typeof at === "number" ? at : null, expiresIn: typeof inMs === "number" ? inMs : null };
}

/**
 * Sends `token` over the open socket (`access_token` on the `phoenix` topic) and resolves with
 * the new expiry, or rejects with a `TokenRefreshError` (refused, or no reply within `timeoutMs`).
 */
export function refreshAccessToken(socket: RefreshableSocket, token: string, timeoutMs = 10_000): Promise<TokenExpiry> {
  const ref = socket.makeRef();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => finish(() => reject(new TokenRefreshError("timeout"))), timeoutMs);
    const listener = socket.onMessage((message) => {
      if (message.topic !== PHOENIX_TOPIC || message.event !== CHANNEL_EVENTS.reply || message.ref !== ref) return;
      const { status, response } = (message.payload ?? {}) as { status?: unknown; response?: unknown };
      if (status === "ok") finish(() => resolve(readExpiry(response)));
      else {
        const reason = (response as { reason?: unknown } | null)?.reason;
        finish(() => reject(new TokenRefreshError(typeof reason === "string" ? reason : "token refused")));
      }
    });
    const finish = (settle: () => void): void => {
      clearTimeout(timer);
      socket.off([listener]);
      settle();
    };
    socket.push({ topic: PHOENIX_TOPIC, event: ACCESS_TOKEN_EVENTS.refresh, payload: { token }, ref, join_ref: null });
  });
}

/** Options of `keepTokenFresh`. */
export interface KeepTokenFreshOptions {
  /** Returns a new token (from your auth server); called ahead of each expiry. */
  refreshToken: () => string | Promise<string>;
  /** How long before the expiry to refresh, in ms (at most half the time left). Default 30 000. */
  refreshAheadMs?: number;
  /** Called when a refresh fails (a refused token ends the connection; other failures are retried). */
  onError?: (error: unknown) => void;
  /** Called with every new expiry (pushed at connect, or the reply to a refresh). */
  onExpiry?: (expiry: TokenExpiry) => void;
}

/** Default of `refreshAheadMs`. */
export const DEFAULT_REFRESH_AHEAD_MS = 30_000;

/**
 * Refreshes the token of `socket` ahead of every expiry the server states, for as long as the
 * socket lives: `refreshToken()` gives the new token, which is sent in-band. Make your connect
 * params (or `authToken`) return the newest token too, for reconnects. Returns a function that
 * stops it.
 */
export function keepTokenFresh(socket: RefreshableSocket, options: KeepTokenFreshOptions): () => void {
  const ahead = options.refreshAheadMs ?? DEFAULT_REFRESH_AHEAD_MS;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let deadline = 0;
  let generation = 0;
  const cancel = (): void => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    generation++;
  };
  const schedule = (expiry: TokenExpiry): void => {
    cancel();
    options.onExpiry?.(expiry);
    if (expiry.expiresIn === null) return;
    deadline = Date.now() + expiry.expiresIn;
    const delay = Math.max(0, expiry.expiresIn - Math.min(ahead, expiry.expiresIn / 2));
    const mine = generation;
    timer = setTimeout(() => void refresh(mine), delay);
  };
  const refresh = async (mine: number): Promise<void> => {
    timer = undefined;
    try {
      const token = await options.refreshToken();
      if (mine !== generation) return; // the connection closed meanwhile; the next one states its own expiry
      const expiry = await refreshAccessToken(socket, token);
      if (mine === generation) schedule(expiry);
    } catch (error) {
      options.onError?.(error);
      if (mine !== generation || (error instanceof TokenRefreshError && error.reason !== "timeout")) return;
      const left = deadline - Date.now();
      if (left > 200) timer = setTimeout(() => void refresh(mine), Math.max(100, Math.min(5_000, left / 4)));
    }
  };
  const refs = [
    socket.onMessage((message) => {
      if (message.topic === PHOENIX_TOPIC && message.event === ACCESS_TOKEN_EVENTS.expiry) schedule(readExpiry(message.payload));
    }),
    socket.onClose(() => cancel()),
  ];
  return () => {
    cancel();
    socket.off(refs);
  };
}
