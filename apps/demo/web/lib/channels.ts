/** Helpers for channel replies: readable messages for the server's error replies. */

/** A readable message for a push's error reply (`{reason, errors: [{message}]}`) or a join refusal. */
export function replyError(response: unknown, fallback = "The server refused that."): string {
  if (typeof response !== "object" || response === null) return fallback;
  const { errors, reason } = response as { errors?: unknown; reason?: unknown };
  if (Array.isArray(errors)) {
    const first = errors.find((e): e is { message: string } =>
      typeof e === "object" && e !== null && typeof (e as { message?: unknown }).message === "string");
    if (first !== undefined) return sentence(first.message);
  }
  if (typeof reason === "string") return sentence(REASONS[reason] ?? reason.replace(/_/g, " "));
  return fallback;
}

const REASONS: Record<string, string> = {
  unauthorized: "you are not allowed in here",
  not_found: "this does not exist",
  not_driver: "only the driver can deal the next card",
  no_card: "there is no card on the table yet",
  invalid_payload: "the server could not read that",
  signed_out: "your session has ended; sign in again",
};

/** What to say when a push got no reply in time. */
export const TIMEOUT_MESSAGE = "The server did not answer in time. Check your connection and try again.";

function sentence(text: string): string {
  const trimmed = text.trim();
  const capital = trimmed.length === 0 ? trimmed : trimmed[0]!.toUpperCase() + trimmed.slice(1);
  return /[.!?…]$/.test(capital) ? capital : `${capital}.`;
}
