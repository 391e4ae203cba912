/** Small helpers shared by the conformance channels. */

/** The value as a plain object, or `{}` when it is not one (arrays and bytes are not). */
export function asObject(value: unknown): Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array)
    ? (value as Record<string, unknown>) : {};
}
