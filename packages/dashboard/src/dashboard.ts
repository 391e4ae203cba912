/**
 * The dashboard's server side: counts this node's events (stats.ts), broadcasts a snapshot
 * tagged with the node's name on the dashboard topic every interval (through the endpoint's
 * PubSub, so every node's snapshot reaches every operator's page), and defines the channel an
 * operator's page joins: the join is allowed only when `authorize` says so, and the page may ask
 * for `disconnect_socket {id}`, which calls `endpoint.disconnect(id)` (cluster-wide).
 *
 * ```ts
 * const dashboard = createDashboard({ presence, authorize: (socket) => socket.assigns.admin === true });
 * const socket = defineSocket({ connect, channels: { [dashboard.topic]: dashboard.channel, ... } });
 * const endpoint = attach(server, { socket });
 * dashboard.observe(endpoint);
 * // in an admin-only route: response.end(dashboard.page({ socketUrl: "/socket", params: { token }, clientUrl }))
 * ```
 */
import { readFileSync } from "node:fs";
import type { ServerResponse } from "node:http";
import { createRequire } from "node:module";
import {
  defineChannel, error, ok, type AnyChannelDefinition, type Assigns, type ChannelSocket, type Endpoint, type Presence,
} from "@cinder/server";
import { Stats, type NodeSnapshot } from "./stats.js";
import { renderDashboardPage, type PageOptions } from "./page.js";

/** The default topic the snapshots are broadcast on. */
export const DASHBOARD_TOPIC = "cinder:dashboard";

/** The part of an endpoint the dashboard uses. */
export type DashboardEndpoint = Pick<Endpoint, "id" | "pubsub" | "broadcast" | "disconnect">;

/** How to build a dashboard. */
export interface DashboardOptions<A extends Assigns = Assigns> {
  /**
   * Whether this socket may watch the dashboard (and disconnect sockets): the app's own
   * operator check, e.g. an admin flag in the assigns its `connect` set. Required: no default.
   */
  authorize(socket: ChannelSocket<A>): boolean;
  /** The presence whose biggest topics are listed. */
  presence?: Pick<Presence, "topics" | "countConnections">;
  /** The topic (exact, no wildcard) snapshots are broadcast on. Default {@link DASHBOARD_TOPIC}. */
  topic?: string;
  /** How often each node broadcasts its snapshot, in ms. Default 1000. */
  intervalMs?: number;
}

/** A dashboard: mount `channel` at `topic` in the socket, `observe` the endpoint, serve `page`. */
export interface Dashboard {
  /** The topic the page joins; the key to mount `channel` under in `defineSocket`'s channels. */
  readonly topic: string;
  /** The channel definition for `topic`. */
  readonly channel: AnyChannelDefinition;
  /** Counts `endpoint`'s events and starts broadcasting this node's snapshots through it. */
  observe(endpoint: DashboardEndpoint): void;
  /** This node's snapshot now (what it broadcasts). */
  snapshot(): NodeSnapshot;
  /** The dashboard's HTML page (self-contained; it loads the client bundle from `clientUrl`). */
  page(options: Omit<PageOptions, "topic">): string;
  /** Answers a request for the `@cinder/client` browser bundle (for a `clientUrl` served by the app). */
  serveClient(response: ServerResponse): void;
  /** Stops counting and broadcasting. */
  close(): void;
}

/** Creates a dashboard (it counts nothing until `observe`). */
export function createDashboard<A extends Assigns = Assigns>(options: DashboardOptions<A>): Dashboard {
  const topic = options.topic ?? DASHBOARD_TOPIC;
  if (topic.includes("*")) throw new TypeError(`the dashboard topic must be exact, not a pattern: ${topic}`);
  const intervalMs = options.intervalMs ?? 1000;
  if (!(intervalMs >= 50)) throw new RangeError(`intervalMs must be at least 50, got ${intervalMs}`);
  const endpointIds = new Set<string>();
  const stats = new Stats(endpointIds, options.presence);
  let endpoint: DashboardEndpoint | undefined;
  let timer: NodeJS.Timeout | undefined;
  const snapshot = (): NodeSnapshot => stats.snapshot(endpoint?.pubsub.nodeName ?? "unobserved");

  const channel = defineChannel({
    join(joined: string, _params: unknown, socket: ChannelSocket<A>) {
      if (joined !== topic) return error({ reason: "no such topic" });
      return options.authorize(socket) ? ok() : error({ reason: "unauthorized" });
    },
    handleIn(event: string, payload: unknown) {
      if (event !== "disconnect_socket") return error({ reason: `unknown event ${event}` });
      const id = (payload as { id?: unknown } | null)?.id;
      if (typeof id !== "string" || id.length === 0 || id.length > 500) return error({ reason: "id must be a non-empty string" });
      if (endpoint === undefined) return error({ reason: "no endpoint observed" });
      endpoint.disconnect(id);
      return ok({ id });
    },
  }) as unknown as AnyChannelDefinition;

  return {
    topic,
    channel,
    observe(observed) {
      if (endpoint !== undefined) throw new Error("a dashboard observes one endpoint");
      endpoint = observed;
      endpointIds.add(observed.id);
      timer = setInterval(() => { observed.broadcast(topic, "snapshot", snapshot()); }, intervalMs);
      timer.unref();
    },
    snapshot,
    page: (page) => renderDashboardPage({ ...page, topic }),
    serveClient(response) {
      response.writeHead(200, { "content-type": "text/javascript; charset=utf-8", "cache-control": "no-cache" }).end(clientBundle());
    },
    close() {
      clearInterval(timer);
      stats.close();
    },
  };
}

let bundle: string | undefined;
/** The `@cinder/client` browser bundle, read once. */
function clientBundle(): string {
  bundle ??= readFileSync(createRequire(import.meta.url).resolve("@cinder/client/browser"), "utf8");
  return bundle;
}
