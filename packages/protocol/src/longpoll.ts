/**
 * The names and limits of the long-poll exchange (docs/protocol.md §1.1, §4), for both ends: the
 * transports' paths under a socket's mount path, the request headers, the POST body's content type
 * and line cap, and the JSON body of an answer.
 */

/** The path segment of each transport under a socket's mount path: `<mount>/websocket`, `<mount>/longpoll`. */
export const TRANSPORT_PATHS = { websocket: "websocket", longpoll: "longpoll" } as const;

/**
 * The long-poll request headers, spelled as phoenix.js writes them (header names are
 * case-insensitive; Node.js hands them to a server lower-cased): the client's `authToken` on
 * every GET, and the session token.
 */
export const LONGPOLL_HEADERS = { authToken: "X-Phoenix-AuthToken", sessionToken: "X-Phoenix-Longpoll-Token" } as const;

/** The content type of a POST whose body is frames, one per line (V2 text, or base64 binary). */
export const NDJSON_CONTENT_TYPE = "application/x-ndjson";

/** The most lines of one POST a server handles (the rest are ignored), and so the most a client sends in one. */
export const MAX_LINES_PER_POST = 100;

/**
 * The JSON body of a long-poll answer. GET: `status` 200 (messages), 204 (nothing within the
 * window), 410 (a new session, or the session is gone) or 403 (refused), with the session `token`
 * and the `messages` (each one text frame, as a WebSocket would carry it). POST: `status` alone
 * (200, 408 or 410).
 */
export interface PollAnswer {
  status: number;
  token?: string;
  messages?: string[];
}
