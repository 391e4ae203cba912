/**
 * Prometheus metrics on the telemetry hooks (prom-client): connections by transport, channels
 * joined by topic pattern, messages in and out, broadcast fan-out, presence members by topic
 * pattern, errors by kind, rate-limit refusals and slow-consumer cut-offs, plus Node's default
 * process metrics. Counters on the hot path (messages, deliveries) are plain numbers read at
 * scrape time, so a delivery costs an increment, not a label lookup.
 *
 * ```ts
 * const metrics = createMetrics({ presence });
 * const endpoint = attach(server, { socket, telemetry: metrics.telemetry });
 * metrics.observe(endpoint);
 * // in the HTTP handler: if (url.pathname === "/metrics") return metrics.handler(request, response);
 * ```
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { Presence } from "./presence/index.js";
import type { Telemetry } from "./telemetry.js";

/** What metrics need to know about presence and topic patterns. */
export interface MetricsOptions {
  /** The presence whose members are counted per topic pattern at scrape time. */
  presence?: Pick<Presence, "topics" | "countConnections">;
  /** Metric name prefix. Default "cinder_". */
  prefix?: string;
  /** Include Node's default process metrics. Default true. */
  defaultMetrics?: boolean;
}

/** Metrics for one endpoint. */
export interface Metrics {
  /** The hooks to give `attach(server, { telemetry })`. */
  readonly telemetry: Telemetry;
  /** The prom-client registry. */
  readonly registry: Registry;
  /** Lets presence members be grouped by the endpoint's topic patterns. */
  observe(endpoint: { patternOf(topic: string): string | undefined }): void;
  /** The metrics in Prometheus text format. */
  text(): Promise<string>;
  /** Answers a `GET /metrics` request. */
  handler(request: IncomingMessage, response: ServerResponse): void;
}

/** Creates the metrics and the telemetry hooks that feed them. */
export function createMetrics(options: MetricsOptions = {}): Metrics {
  const prefix = options.prefix ?? "cinder_";
  const registry = new Registry();
  // A coarse event-loop monitor: the default 10 ms sampling costs ~3 ms of CPU a second even when idle.
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry, prefix, eventLoopMonitoringPrecision: 100 });
  let patternOf: (topic: string) => string | undefined = () => undefined;

  const hot = { in: new Map<string, number>(), out: new Map<string, number>(), broadcasts: 0, deliveries: 0 };
  const bump = (map: Map<string, number>, key: string): void => { map.set(key, (map.get(key) ?? 0) + 1); };
  const fromMap = (map: Map<string, number>) => function collect(this: Counter<"transport">): void {
    this.reset();
    for (const [transport, n] of map) this.inc({ transport }, n);
  };

  const connections = new Gauge({ name: `${prefix}connections`, help: "Open connections by transport", labelNames: ["transport"], registers: [registry] });
  const connects = new Counter({ name: `${prefix}connect_attempts_total`, help: "Connection attempts by transport and result", labelNames: ["transport", "result"], registers: [registry] });
  const channels = new Gauge({ name: `${prefix}channels_joined`, help: "Joined channels by topic pattern", labelNames: ["pattern"], registers: [registry] });
  const joins = new Counter({ name: `${prefix}joins_total`, help: "Join replies by topic pattern and status", labelNames: ["pattern", "status"], registers: [registry] });
  const handleIn = new Histogram({
    name: `${prefix}handle_in_duration_seconds`, help: "handleIn duration by topic pattern", labelNames: ["pattern"], registers: [registry],
    buckets: [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
  });
  new Counter({ name: `${prefix}messages_in_total`, help: "Frames received by transport", labelNames: ["transport"], registers: [registry], collect: fromMap(hot.in) });
  new Counter({ name: `${prefix}messages_out_total`, help: "Frames sent by transport", labelNames: ["transport"], registers: [registry], collect: fromMap(hot.out) });
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

  const telemetry: Telemetry = {
    connect: ({ transport, accepted }) => {
      connects.inc({ transport, result: accepted ? "accepted" : "refused" });
      if (accepted) connections.inc({ transport });
    },
    disconnect: ({ transport }) => connections.dec({ transport }),
    messageIn: ({ transport }) => bump(hot.in, transport),
    messageOut: ({ transport }) => bump(hot.out, transport),
    join: ({ pattern, status }) => {
      joins.inc({ pattern, status });
      if (status === "ok") channels.inc({ pattern });
    },
    leave: ({ pattern }) => channels.dec({ pattern }),
    handleIn: ({ pattern, durationMs }) => handleIn.observe({ pattern }, durationMs / 1000),
    broadcast: ({ subscribers }) => {
      hot.broadcasts++;
      hot.deliveries += subscribers;
    },
    error: ({ kind }) => errors.inc({ kind }),
    rateLimited: ({ what }) => rateLimited.inc({ what }),
    slowConsumer: ({ transport }) => slow.inc({ transport }),
  };

  return {
    telemetry,
    registry,
    observe(endpoint) {
      patternOf = (topic) => endpoint.patternOf(topic);
    },
    text: () => registry.metrics(),
    handler(_request, response) {
      registry.metrics().then((body) => {
        response.writeHead(200, { "content-type": registry.contentType, "cache-control": "no-store" }).end(body);
      }, () => {
        response.writeHead(500, { "content-type": "text/plain" }).end("metrics unavailable");
      });
    },
  };
}
