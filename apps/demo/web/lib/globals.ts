/** What the server's page shell hands to the scripts (see apps/demo/src/http/pages.ts). */

/** The signed-in user. */
export interface CurrentUser {
  id: number;
  username: string;
}

declare global {
  interface Window {
    /** The socket token (the socket's `token` param only; the API uses the HttpOnly cookie), or null. */
    userToken: string | null;
    /** The signed-in user, or null. */
    currentUser: CurrentUser | null;
    /** True for admins. */
    isAdmin: boolean;
    /** The page's params, e.g. `{room}`, `{id}`, or `{next}` on the sign-in page. */
    pageData: Record<string, unknown>;
  }
}

/** The page data field `name` as a string, if it is one. */
export function pageString(name: string): string | undefined {
  const value = window.pageData?.[name];
  return typeof value === "string" ? value : undefined;
}

/** The page data field `name` as a number, if it is one. */
export function pageNumber(name: string): number | undefined {
  const value = window.pageData?.[name];
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}
