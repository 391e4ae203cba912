/**
 * Serializer negotiation: picks the wire format from the `vsn` a client sends (missing →
 * 1.0.0; 1.x → V1 JSON; 2.x → V2). Anything else, or an unparseable version, is refused.
 */
import type { Serializer } from "./message.js";
import { V1Serializer } from "./v1.js";
import { V2Serializer } from "./v2.js";

export * from "./message.js";
export { V1Serializer } from "./v1.js";
export { V2Serializer } from "./v2.js";

const SEMVER = /^(\d+)\.(\d+)\.(\d+)(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/;

/**
 * Returns the serializer for a client's `vsn` (undefined means 1.0.0), or null when the
 * version is unparseable or unsupported.
 */
export function negotiateSerializer(vsn: string | undefined): Serializer | null {
  const match = SEMVER.exec(vsn ?? "1.0.0");
  if (!match) return null;
  const major = Number(match[1]);
  if (major === 1) return V1Serializer;
  if (major === 2) return V2Serializer;
  return null;
}
