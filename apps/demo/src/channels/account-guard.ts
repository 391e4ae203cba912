/**
 * Refusing cleanly what a closed account sends. A socket is checked once, when it connects; its
 * account can end while it stays open — its user deleted (by an operator, or on another node),
 * or its session revoked where the close did not reach it. A write of such a socket then fails
 * in the database (a foreign key to a user who is gone), which would crash its channel: the push
 * would get no reply and the write would be lost without a word. `guardAccount` wraps a channel
 * so that, when a callback fails and the socket's session is no longer open, the push gets an
 * error reply `{reason: "signed_out", message}`, the join is refused the same way, and the
 * socket is closed (the page's reconnect is then refused with the same message); other sockets
 * and the channel's other members carry on. A failure of a socket whose session is open is the
 * bug it is, and crashes the channel as before. Nothing is checked on the hot path: the session
 * is read only after a failure.
 */
import { error, type HandleInResult, type JoinResult } from "@cinder/server";
import { signedOutMessage } from "../accounts.js";
import type { Store } from "../db/store.js";
import type { UserSocket } from "./context.js";

/** What the guard needs: the store (to read the session) and a way to close a socket id. */
export interface AccountGuard {
  store: Pick<Store, "session">;
  /** Closes every transport of a socket id (the endpoint's `disconnect`). */
  disconnect(socketId: string): void;
}

/** The callbacks the guard wraps, and where their socket argument is. */
const WRAPPED = { join: 2, handleIn: 2, handleInfo: 1 } as const;

type Callback = (...args: unknown[]) => unknown;

/** The error reply of a closed account's push or join. */
export function signedOutReply(message: string) {
  return error({ reason: "signed_out", message });
}

/** Wraps `definition`'s `join`, `handleIn` and `handleInfo` as described above. */
export function guardAccount<D extends { join: unknown }>(guard: AccountGuard, definition: D): D {
  /** The message to answer with when the socket's account is closed; undefined when it is open. */
  const closed = async (socket: UserSocket): Promise<string | undefined> => {
    const { user, sessionId } = socket.assigns;
    const state = await guard.store.session(sessionId, user.id);
    if (state.ok) return undefined;
    // after the reply has gone out: the socket's page learns why, then its reconnect is refused
    const id = socket.id;
    if (id !== null) setTimeout(() => guard.disconnect(id), 20);
    return signedOutMessage(state.revokedBy);
  };
  const callbacks = definition as unknown as Record<keyof typeof WRAPPED, Callback | undefined>;
  const wrapped: Record<string, unknown> = { ...definition };
  for (const [name, socketAt] of Object.entries(WRAPPED) as Array<[keyof typeof WRAPPED, number]>) {
    const original = callbacks[name];
    if (original === undefined) continue;
    // a join or a push is answered with the refusal; a self-sent message (handleInfo) has nobody to answer
    const answer = (message: string): JoinResult | HandleInResult => (name === "handleInfo" ? undefined : signedOutReply(message));
    wrapped[name] = async (...args: unknown[]): Promise<unknown> => {
      try {
        return await original.apply(definition, args);
      } catch (caught) {
        const message = await closed(args[socketAt] as UserSocket);
        if (message === undefined) throw caught;
        return answer(message);
      }
    };
  }
  return wrapped as D;
}
