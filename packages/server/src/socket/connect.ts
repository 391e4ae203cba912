/**
 * Authorizing a connection, whatever its transport: negotiate the serializer from `vsn`, run
 * the socket's `connect` hook, then its `id` hook. The outcome is either everything a
 * connection needs, or a refusal with an HTTP status. `checkRefresh` reads a token pushed over
 * an open socket the same way: through the `refresh` hook, or `connect` again.
 */
import type { Assigns } from "../channel/index.js";
import type { Logger } from "../logger.js";
import { negotiateSerializer, type Serializer } from "../serializer/index.js";
import {
  isAcceptance, isRefusal, isRenewal, refuse,
  type ConnectInfo, type ConnectParams, type Refusal, type Renewal, type SocketDefinition,
} from "./definition.js";
import type { Revocations } from "./revocations.js";

/** An accepted connection's identity. */
export interface Accepted {
  readonly kind: "accept";
  readonly serializer: Serializer;
  readonly assigns: Assigns;
  readonly id: string | null;
  /** When its token expires (epoch ms), or null. */
  readonly expiresAt: number | null;
  /** The params and info it connected with (a refresh is checked against them). */
  readonly params: ConnectParams;
  readonly info: ConnectInfo;
}

/** The outcome of `connect` and `id`, before the transport-level parts. */
interface Identity {
  readonly assigns: Assigns;
  readonly id: string | null;
  readonly expiresAt: number | null;
  readonly issuedAt: number | null;
}

/** Runs vsn negotiation, `connect` and `id` for a connecting client. */
export async function authorize(
  socket: SocketDefinition,
  params: ConnectParams,
  info: ConnectInfo,
  logger: Logger,
  revocations: Revocations,
): Promise<Accepted | Refusal> {
  const vsn = params.vsn;
  const serializer = negotiateSerializer(typeof vsn === "string" ? vsn : undefined);
  if (serializer === null) {
    logger.warn({ vsn }, "connection refused: unsupported serializer version");
    return refuse(403, "unsupported vsn");
  }
  const identity = await identify(socket, params, info, logger);
  if (identity.kind === "refuse") return identity;
  const checked = checkTimes(identity.value, identity.value.id, revocations, logger);
  if (checked !== null) return checked;
  const { assigns, id, expiresAt } = identity.value;
  return { kind: "accept", serializer, assigns, id, expiresAt, params, info };
}

/**
 * Checks a token pushed over the open socket of `accepted`: the `refresh` hook's renewal, or,
 * without one, `connect` run again with the token, which must name the same socket id.
 */
export async function checkRefresh(
  socket: SocketDefinition,
  token: string,
  current: { readonly assigns: Assigns; readonly id: string | null; readonly params: ConnectParams; readonly info: ConnectInfo },
  logger: Logger,
  revocations: Revocations,
): Promise<Renewal | Refusal> {
  let renewal: Renewal;
  if (socket.refresh !== undefined) {
    let result: unknown;
    try {
      result = await socket.refresh(token, { assigns: current.assigns, id: current.id, params: current.params, info: current.info });
    } catch (error) {
      logger.error({ err: error }, "refresh threw; token refused");
      return refuse(403, "token refused");
    }
    if (isRefusal(result)) return result;
    if (!isRenewal(result)) {
      logger.error({ result }, "refresh returned something other than renew(...) or refuse(...); token refused");
      return refuse(403, "token refused");
    }
    renewal = result;
  } else if (socket.connect !== undefined) {
    const identity = await identify(socket, { ...current.params, token }, { ...current.info, authToken: token }, logger);
    if (identity.kind === "refuse") return identity;
    if (identity.value.id !== current.id) {
      logger.warn({ id: current.id, refreshed: identity.value.id }, "refreshed token names another socket id; refused");
      return refuse(403, "token names another socket");
    }
    renewal = { kind: "renew", expiresAt: identity.value.expiresAt, issuedAt: identity.value.issuedAt };
  } else {
    renewal = { kind: "renew", expiresAt: null, issuedAt: null };
  }
  return checkTimes(renewal, current.id, revocations, logger) ?? renewal;
}

/** Refuses an expired or revoked token; null when its times are fine. */
function checkTimes(
  times: { readonly expiresAt: number | null; readonly issuedAt: number | null },
  id: string | null,
  revocations: Revocations,
  logger: Logger,
): Refusal | null {
  if (times.expiresAt !== null && times.expiresAt <= Date.now()) {
    logger.info({ id, expiresAt: times.expiresAt }, "token refused: expired");
    return refuse(403, "token expired");
  }
  if (id !== null && times.issuedAt !== null && revocations.isRevoked(id, times.issuedAt)) {
    logger.info({ id, issuedAt: times.issuedAt }, "token refused: revoked");
    return refuse(403, "token revoked");
  }
  return null;
}

/** Runs `connect` and `id`. */
async function identify(
  socket: SocketDefinition,
  params: ConnectParams,
  info: ConnectInfo,
  logger: Logger,
): Promise<{ kind: "ok"; value: Identity } | Refusal> {
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
  let expiresAt: number | null = null;
  let issuedAt: number | null = null;
  if (isAcceptance(result)) {
    ({ expiresAt, issuedAt } = result);
    result = result.assigns;
  }
  const assigns: Assigns = typeof result === "object" && result !== null ? { ...(result as Assigns) } : {};
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
  return { kind: "ok", value: { assigns, id, expiresAt, issuedAt } };
}
