/** What every channel of the apps shares: the store, presence, the endpoint's broadcast, the user. */
import type { ChannelSocket, Presence } from "@cinder/server";
import type { Store, User } from "../db/store.js";

/** The socket assigns of a signed-in connection. */
export interface UserAssigns extends Record<string, unknown> {
  user: User;
  /** The session the socket's token names (its socket id is `session:<id>`). */
  sessionId: string;
}

/** A channel socket of a signed-in user. */
export type UserSocket<A extends Record<string, unknown> = Record<never, never>> = ChannelSocket<UserAssigns & A>;

/** Dependencies handed to the channel factories. */
export interface AppContext {
  store: Store;
  presence: Presence;
  /** Broadcasts from outside any channel (cluster-wide). */
  broadcast(topic: string, event: string, payload: unknown): void;
  /** True once the server is shutting down (channels then end without handing roles over). */
  stopping?(): boolean;
}

/** The first validation message of a Standard Schema failure, for logs. */
export function describe(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}
