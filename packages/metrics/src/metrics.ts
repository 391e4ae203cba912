/**
 * Prometheus metrics (prom-client) fed by Cinder's diagnostics channels: connections by
 * transport, channels joined by topic pattern, messages in and out, broadcast fan-out, presence
 * members by topic pattern, errors by kind, rate-limit refusals and slow-consumer cut-offs, plus
 * Node's default process metrics. Counters on the hot path (messages, deliveries) are plain
 * numbers read at scrape time, so a delivery costs an increment, not a label lookup.
 *
 * ```ts
 * const metrics = createMetrics({ presence });
 * const endpoint = attach(server, { socket });
 * metrics.observe(endpoint);
 * // in the HTTP handler: if (url.pathname === "/metrics") return metrics.handler(request, response);
 * ```
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { performance } from "node:perf_hooks";
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import { subscribeDiagnostics, type Endpoint, type Presence, type PubSub, type TransportName } from "@cinder/server";

/** What metrics need to know about presence. */
export interface MetricsOptions {
  /** The presence whose members are counted per topic pattern at scrape time. */
  presence?: Pick<Presence, "topics" | "countConnections">;
  /** Metric name prefix. Default "cinder_". */
  prefix?: string;
  /** Include Node's default process metrics. Default true. */
  defaultMetrics?: boolean;
  /**
   * How often the default metrics' event-loop delay monitor samples, in ms (prom-client's
   * option; its own default is 10). Default 1 000: each sample wakes the process, so 10 ms costs
   * an idle server ~3 ms of CPU a second, 1 000 ms ~0.5 ms with no connections and ~1 ms with
   * 10,000 (a wake-up lets V8's memory reducer run GCs over the heap); a stall shorter than this
   * is seen only when it covers a sample. `cinder_event_loop_utilization` needs no sampling.
   */
  eventLoopMonitoringPrecision?: number;
}

/** The part of an endpoint that metrics read. */
export type ObservedEndpoint = Pick<Endpoint, "id" | "pubsub" | "patternOf">;

/** Metrics for the endpoints they observe. */
export interface Metrics {
  /** The prom-client registry. */
  readonly registry: Registry;
  /**
   * Counts the events of `endpoint` from now on (observe it before it accepts connections, so
   * the gauges see every connection open), and groups presence members by its topic patterns.
   */
  observe(endpoint: ObservedEndpoint): void;
  /** The metrics in Prometheus text format. */
  text(): Promise<string>;
  /** Answers a `GET /metrics` request. */
  handler(request: IncomingMessage, response: ServerResponse): void;
  /** Unsubscribes from the diagnostics channels (the registry keeps its last values). */
  close(): void;
}

/** Creates the metrics and subscribes them to Cinder's diagnostics channels. */
export function createMetrics(options: MetricsOptions = {}): Metrics {
  const prefix = options.prefix ?? "cinder_";
  const registry = new Registry();
  const precision = options.eventLoopMonitoringPrecision ?? 1_000;
  if (!Number.isInteger(precision) || precision < 1) throw new TypeError(`eventLoopMonitoringPrecision must be a whole number of ms ≥ 1 (got ${String(precision)})`);
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry, prefix, eventLoopMonitoringPrecision: precision });
  const endpoints = new Map<string, ObservedEndpoint>();
  const pubsubs = new Set<PubSub>();
  const patternOf = (topic: string): string | undefined => {
    for (const endpoint of endpoints.values()) {
      const pattern = endpoint.patternOf(topic);
      if (pattern !== undefined) return pattern;
    }
    return undefined;
  };

  const hot = { in: { websocket: 0, longpoll: 0 }, out: { websocket: 0, longpoll: 0 }, broadcasts: 0, deliveries: 0 };
  const fromCounts = (counts: Record<TransportName, number>) => function collect(this: Counter<"transport">): void {
    this.reset();
    for (const [transport, n] of Object.entries(counts)) if (n > 0) this.inc({ transport }, n);
  };

  const connections = new Gauge({ name: `${prefix}connections`, help: "Open connections by transport", labelNames: ["transport"], registers: [registry] });
  const connects = new Counter({ name: `${prefix}connect_attempts_total`, help: "Connection attempts by transport and result", labelNames: ["transport", "result"], registers: [registry] });
  const channels = new Gauge({ name: `${prefix}channels_joined`, help: "Joined channels by topic pattern", labelNames: ["pattern"], registers: [registry] });
  const joins = new Counter({ name: `${prefix}joins_total`, help: "Join replies by topic pattern and status", labelNames: ["pattern", "status"], registers: [registry] });
  const handleIn = new Histogram({
    name: `${prefix}handle_in_duration_seconds`, help: "handleIn duration by topic pattern", labelNames: ["pattern"], registers: [registry],
    buckets: [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
  });
  new Counter({ name: `${prefix}messages_in_total`, help: "Frames received by transport", labelNames: ["transport"], registers: [registry], collect: fromCounts(hot.in) });
  new Counter({ name: `${prefix}messages_out_total`, help: "Frames sent by transport", labelNames: ["transport"], registers: [registry], collect: fromCounts(hot.out) });
  new Counter({ name: `${prefix}broadcasts_total`, help: "Broadcasts delivered on this node", registers: [registry],
    collect(this: Counter) { this.reset(); this.inc(hot.broadcasts); } });
  new Counter({ name: `${prefix}broadcast_deliveries_total`, help: "Local subscribers reached by broadcasts (fan-out)", registers: [registry],
    collect(this: Counter) { this.reset(); this.inc(hot.deliveries); } });
  const errors = new Counter({ name: `${prefix}errors_total`, help: "Errors by kind", labelNames: ["kind"], registers: [registry] });
  const rateLimited = new Counter({ name: `${prefix}rate_limited_total`, help: "Joins and messages refused by rate limits", labelNames: ["what"], registers: [registry] });
  const slow = new Counter({ name: `${prefix}slow_consumers_total`, help: "Clients cut off for not reading", labelNames: ["transport"], registers: [registry] });
  new Gauge({
    name: `${prefix}presence_members`, help: "Presence metas (connections) by topic pattern", labelNames: ["pattern"], registers: [registry],
    collect(this: Gauge<"pattern">) {
      this.reset();
      const presence = options.presence;
      if (presence === undefined) return;
      const byPattern = new Map<string, number>();
      for (const topic of presence.topics()) {
        const pattern = patternOf(topic) ?? "other";
        byPattern.set(pattern, (byPattern.get(pattern) ?? 0) + presence.countConnections(topic));
      }
      for (const [pattern, n] of byPattern) this.set({ pattern }, n);
    },
  });

  // The share of wall time the event loop was busy between two scrapes: libuv's own idle-time
  // accounting, read at scrape time, so it costs nothing in between (no timer, no sampling).
  let lastLoop = performance.eventLoopUtilization();
  new Gauge({
    name: `${prefix}event_loop_utilization`, help: "Share of time the event loop was busy since the previous scrape (0-1)", registers: [registry],
    collect(this: Gauge) {
      const now = performance.eventLoopUtilization();
      this.set(performance.eventLoopUtilization(now, lastLoop).utilization);
      lastLoop = now;
    },
  });

  const unsubscribers = [
    subscribeDiagnostics("cinder:socket:connect", ({ endpoint, transport, accepted }) => {
      if (!endpoints.has(endpoint)) return;
      connects.inc({ transport, result: accepted ? "accepted" : "refused" });
      if (accepted) connections.inc({ transport });
    }),
    subscribeDiagnostics("cinder:socket:close", ({ endpoint, transport }) => {
      if (endpoints.has(endpoint)) connections.dec({ transport });
    }),
    subscribeDiagnostics("cinder:socket:message_in", ({ endpoint, transport }) => {
      if (endpoints.has(endpoint)) hot.in[transport]++;
    }),
    subscribeDiagnostics("cinder:socket:message_out", ({ endpoint, transport }) => {
      if (endpoints.has(endpoint)) hot.out[transport]++;
    }),
    subscribeDiagnostics("cinder:socket:rate_limited", ({ endpoint, what }) => {
      if (endpoints.has(endpoint)) rateLimited.inc({ what });
    }),
    subscribeDiagnostics("cinder:socket:slow_consumer", ({ endpoint, transport }) => {
      if (endpoints.has(endpoint)) slow.inc({ transport });
    }),
    subscribeDiagnostics("cinder:channel:join", ({ endpoint, pattern, status }) => {
      if (!endpoints.has(endpoint)) return;
      joins.inc({ pattern, status });
      if (status === "ok") channels.inc({ pattern });
    }),
    subscribeDiagnostics("cinder:channel:leave", ({ endpoint, pattern }) => {
      if (endpoints.has(endpoint)) channels.dec({ pattern });
    }),
    subscribeDiagnostics("cinder:channel:handle_in", ({ endpoint, pattern, durationMs }) => {
      if (endpoints.has(endpoint)) handleIn.observe({ pattern }, durationMs / 1000);
    }),
    subscribeDiagnostics("cinder:pubsub:broadcast", ({ pubsub, subscribers }) => {
      if (!pubsubs.has(pubsub)) return;
      hot.broadcasts++;
      hot.deliveries += subscribers;
    }),
    subscribeDiagnostics("cinder:error", ({ endpoint, kind }) => {
      if (endpoints.has(endpoint)) errors.inc({ kind });
    }),
  ];

  return {
    registry,
    observe(endpoint) {
      endpoints.set(endpoint.id, endpoint);
      pubsubs.add(endpoint.pubsub);
    },
    text: () => registry.metrics(),
    handler(_request, response) {
      registry.metrics().then((body) => {
        response.writeHead(200, { "content-type": registry.contentType, "cache-control": "no-store" }).end(body);
      }, () => {
        response.writeHead(500, { "content-type": "text/plain" }).end("metrics unavailable");
      });
    },
    close() {
      for (const unsubscribe of unsubscribers.splice(0)) unsubscribe();
    },
  };
}
