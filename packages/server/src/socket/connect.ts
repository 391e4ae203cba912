/**
 * Authorizing a connection, whatever its transport: negotiate the serializer from `vsn`, run
 * the socket's `connect` hook, then its `id` hook. The outcome is either everything a
 * connection needs, or a refusal with an HTTP status.
 */
import type { Assigns } from "../channel/index.js";
import type { Logger } from "../logger.js";
import { negotiateSerializer, type Serializer } from "../serializer/index.js";
import { isRefusal, refuse, type ConnectInfo, type ConnectParams, type Refusal, type SocketDefinition } from "./definition.js";

/** An accepted connection's identity. */
export interface Accepted {
  readonly kind: "accept";
  readonly serializer: Serializer;
  readonly assigns: Assigns;
  readonly id: string | null;
}

/** Runs vsn negotiation, `connect` and `id` for a connecting client. */
export async function authorize(
  socket: SocketDefinition,
  params: ConnectParams,
  info: ConnectInfo,
  logger: Logger,
): Promise<Accepted | Refusal> {
  const vsn = params.vsn;
  const serializer = negotiateSerializer(typeof vsn === "string" ? vsn : undefined);
  if (serializer === null) {
    logger.warn({ vsn }, "connection refused: unsupported serializer version");
    return refuse(403, "unsupported vsn");
  }
  let result: unknown = true;
  if (socket.connect !== undefined) {
    try {
      result = await socket.connect(params, info);
    } catch (error) {
      logger.error({ err: error }, "connect threw; connection refused");
      return refuse(403);
    }
  }
  if (isRefusal(result)) return result;
  if (result === false || result === null) return refuse(403);
  const assigns: Assigns = typeof result === "object" ? { ...(result as Assigns) } : {};
  let id: string | null = null;
  if (socket.id !== undefined) {
    let named: unknown;
    try {
      named = socket.id({ assigns });
    } catch (error) {
      logger.error({ err: error }, "id threw; connection refused");
      return refuse(403);
    }
    if (typeof named === "string") id = named;
    else if (named !== null && named !== undefined) {
      logger.error({ id: named }, "id returned something other than a string or null; connection refused");
      return refuse(403);
    }
  }
  return { kind: "accept", serializer, assigns, id };
}
