/**
 * The JSON API from the pages: authenticated by the session's HttpOnly cookie, JSON in and out,
 * and `{error}` answers turned into an `ApiError` whose message can be shown as is.
 */

/** A failed API call: the HTTP status (0 when the server could not be reached) and a readable message. */
export class ApiError extends Error {
  override readonly name = "ApiError";

  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/** Calls the API; resolves with the JSON answer, rejects with `ApiError`. */
export async function api<T>(method: "GET" | "POST" | "DELETE", path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: "application/json" };
  if (body !== undefined) headers["content-type"] = "application/json";
  let response: Response;
  try {
    response = await fetch(path, {
      method, headers, credentials: "same-origin",
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch {
    throw new ApiError(0, "Could not reach the server. Check your connection and try again.");
  }
  let data: unknown = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (!response.ok) {
    const message = typeof data === "object" && data !== null && "error" in data && typeof data.error === "string"
      ? data.error : `The server answered ${response.status}.`;
    throw new ApiError(response.status, capitalize(message));
  }
  return data as T;
}

/** The message of anything thrown, for display. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}

/** "that username is taken" → "That username is taken". */
export function capitalize(text: string): string {
  return text.length === 0 ? text : text[0]!.toUpperCase() + text.slice(1);
}

/** A same-site path to go to after signing in (anything else becomes "/"). */
export function safeNext(next: string | undefined): string {
  return next !== undefined && next.startsWith("/") && !next.startsWith("//") && !next.startsWith("/\\") ? next : "/";
}
