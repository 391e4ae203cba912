/**
 * Payload validation with any Standard Schema validator. Issues become a JSON-safe list
 * `[{message, path}]` for the `{"reason":"invalid_payload","errors":[...]}` reply.
 */
import type { StandardSchemaV1 } from "@standard-schema/spec";

/** One validation problem, as sent to the client. */
export interface PayloadIssue {
  message: string;
  path: Array<string | number>;
}

/** The outcome of validating a payload. */
export type ValidationOutcome = { ok: true; value: unknown } | { ok: false; issues: PayloadIssue[] };

function toIssue(issue: StandardSchemaV1.Issue): PayloadIssue {
  const path = (issue.path ?? []).map((segment) => {
    const key = typeof segment === "object" && segment !== null ? segment.key : segment;
    return typeof key === "number" ? key : String(key);
  });
  return { message: issue.message, path };
}

/** Validates `value` against `schema` (sync or async validators alike). */
export async function validatePayload(schema: StandardSchemaV1, value: unknown): Promise<ValidationOutcome> {
  let result = schema["~standard"].validate(value);
  if (result instanceof Promise) result = await result;
  if (result.issues !== undefined) return { ok: false, issues: result.issues.map(toIssue) };
  return { ok: true, value: result.value };
}
