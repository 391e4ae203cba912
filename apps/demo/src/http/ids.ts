/**
 * The one parser for ids in URLs: a row id is a positive integer written in plain decimal digits
 * (no sign, exponent, fraction or leading zero) that fits both databases' BIGINT and a
 * JavaScript number exactly. Anything else is not an id (`/api/videos/NaN`, `1.5`, `1e400`,
 * `99999999999999999999`, `%00`), so the caller answers 404 instead of querying with it.
 */

/** The id written in `raw`, or undefined when `raw` is not one. */
export function parseId(raw: string | undefined): number | undefined {
  if (raw === undefined || !/^[1-9][0-9]{0,15}$/.test(raw)) return undefined;
  const id = Number(raw);
  return Number.isSafeInteger(id) ? id : undefined;
}
