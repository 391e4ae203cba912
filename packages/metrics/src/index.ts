/**
 * `@cinder/metrics`: Prometheus metrics for Cinder endpoints, fed by the server's
 * `node:diagnostics_channel` events (see `@cinder/server`'s `diagnosticsChannels`).
 */
export { createMetrics, type Metrics, type MetricsOptions, type ObservedEndpoint } from "./metrics.js";
