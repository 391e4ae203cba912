/**
 * A connection's token lifetime (docs/protocol.md §11, a Cinder extension): when `connect` gave
 * an expiry, the connection is told it (`access_token_expiry` on the `phoenix` topic) and closed
 * with 4001 "token expired" when it passes; an `access_token` frame with a new token is checked
 * (`checkRefresh`) and, when accepted, moves the expiry (reply ok with the new one) without
 * touching the channels; a refused one is answered with an error and the socket is closed with
 * 4003 "token refused". Each outcome is logged and published on `cinder:socket:token`.
 */
import { ACCESS_TOKEN_EVENTS, PHOENIX_TOPIC, TOKEN_CLOSE_CODES } from "@cinder/protocol";
import type { Assigns } from "../channel/index.js";
import { diagnostics, type TokenOutcome, type TransportName } from "../diagnostics.js";
import type { Logger } from "../logger.js";
import type { Message } from "../serializer/index.js";
import { checkRefresh } from "./connect.js";
import type { ConnectInfo, ConnectParams, SocketDefinition } from "./definition.js";
import type { Revocations } from "./revocations.js";

/** Longest delay `setTimeout` takes (about 24.8 days); later expiries are reached in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Longest token accepted in an `access_token` frame, in characters. */
export const MAX_REFRESH_TOKEN_LENGTH = 8192;

/** What a lifetime needs from its connection. */
export interface LifetimeHost {
  readonly socket: SocketDefinition;
  readonly revocations: Revocations;
  readonly logger: Logger;
  readonly endpointId: string;
  readonly assigns: Assigns;
  readonly socketId: string | null;
  readonly params: ConnectParams;
  readonly info: ConnectInfo;
  /** True once the transport closed. */
  readonly isClosed: boolean;
  /** Pushes an event on the `phoenix` topic. */
  push(event: string, payload: unknown): void;
  /** Replies to a message on the `phoenix` topic. */
  reply(message: Message, status: "ok" | "error", response: unknown): void;
  /** Closes the transport. */
  close(code: number, reason: string): void;
}

/** The expiry of one connection's token, and its in-band refreshes. */
export class TokenLifetime {
  private timer: NodeJS.Timeout | undefined;
  private refreshing = false;

  constructor(private readonly host: LifetimeHost, private expiresAt: number | null) {}

  /** Tells the client the expiry (if any) and starts the clock. */
  start(): void {
    if (this.expiresAt === null) return;
    this.host.push(ACCESS_TOKEN_EVENTS.expiry, this.describe(this.expiresAt));
    this.schedule();
  }

  /** The token's expiry (epoch ms), or null. */
  get expiry(): number | null {
    return this.expiresAt;
  }

  /** Handles an `access_token` frame: `{token}` with a ref. */
  handleRefresh(message: Message): void {
    const token = (message.payload as { token?: unknown } | null)?.token;
    if (typeof token !== "string" || token.length === 0 || token.length > MAX_REFRESH_TOKEN_LENGTH) {
      this.host.reply(message, "error", { reason: "token must be a non-empty string" });
      return;
    }
    if (this.refreshing) {
      this.host.reply(message, "error", { reason: "refresh in progress" });
      return;
    }
    this.refreshing = true;
    const { host } = this;
    checkRefresh(host.socket, token, { assigns: host.assigns, id: host.socketId, params: host.params, info: host.info },
      host.logger, host.revocations)
      .then((outcome) => {
        this.refreshing = false;
        if (host.isClosed) return;
        if (outcome.kind === "refuse") {
          const reason = outcome.reason ?? "token refused";
          host.reply(message, "error", { reason });
          this.end(reason === "token revoked" ? "revoked" : "refused", TOKEN_CLOSE_CODES.refused, reason);
          return;
        }
        this.expiresAt = outcome.expiresAt;
        this.schedule();
        host.reply(message, "ok", this.expiresAt === null ? { expires_at: null, expires_in: null } : this.describe(this.expiresAt));
        this.publish("refreshed");
        host.logger.debug({ id: host.socketId, expiresAt: this.expiresAt }, "token refreshed");
      })
      .catch((error: unknown) => {
        this.refreshing = false;
        host.logger.error({ err: error }, "token refresh failed; closing the connection");
        this.end("refused", TOKEN_CLOSE_CODES.refused, "token refused");
      });
  }

  /** Closes the connection because its tokens were revoked (`endpoint.revoke`). */
  revoke(): void {
    this.end("revoked", TOKEN_CLOSE_CODES.refused, "token revoked");
  }

  /** Stops the clock (the connection closed). */
  stop(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(): void {
    this.stop();
    if (this.expiresAt === null) return;
    const delay = Math.max(0, this.expiresAt - Date.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.expiresAt !== null && this.expiresAt > Date.now()) this.schedule();
      else this.end("expired", TOKEN_CLOSE_CODES.expired, "token expired");
    }, Math.min(delay, MAX_TIMER_MS));
    this.timer.unref();
  }

  private end(outcome: TokenOutcome, code: number, reason: string): void {
    this.stop();
    if (this.host.isClosed) return;
    this.host.logger.info({ id: this.host.socketId, transport: this.host.info.transport, code, reason }, "closing a connection: " + reason);
    this.publish(outcome);
    this.host.close(code, reason);
  }

  private publish(outcome: TokenOutcome): void {
    if (diagnostics.token.hasSubscribers) {
      diagnostics.token.publish({ endpoint: this.host.endpointId, transport: this.host.info.transport as TransportName, outcome });
    }
  }

  private describe(expiresAt: number): { expires_at: number; expires_in: number } {
    return { expires_at: expiresAt, expires_in: Math.max(0, expiresAt - Date.now()) };
  }
}
