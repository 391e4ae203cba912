/**
 * The Grafana dashboard beside the package (grafana-dashboard.json): valid JSON, every panel has
 * queries, and every metric its queries name is one `createMetrics` really registers (with the
 * default `cinder_` prefix), so a renamed metric cannot leave a silently empty panel.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { createMetrics } from "../src/index.js";

/** The file from src (tsx) or from dist/test (compiled). */
function dashboardPath(): string {
  for (const relative of ["../grafana-dashboard.json", "../../grafana-dashboard.json"]) {
    const path = fileURLToPath(new URL(relative, import.meta.url));
    if (existsSync(path)) return path;
  }
  throw new Error("grafana-dashboard.json not found");
}

interface Panel { title: string; targets?: { expr?: string }[] }

test("every expr of the Grafana dashboard names metrics the package registers", async () => {
  const dashboard = JSON.parse(readFileSync(dashboardPath(), "utf8")) as { panels: Panel[]; templating: { list: { query: string }[] } };
  const metrics = createMetrics();
  const registered = new Set((await metrics.registry.getMetricsAsJSON()).map((m) => m.name));
  metrics.close();
  // a histogram is exposed as _bucket, _sum and _count series
  const known = (name: string): boolean => registered.has(name) || registered.has(name.replace(/_(bucket|sum|count)$/, ""));
  assert.ok(dashboard.panels.length >= 8, "the dashboard has its panels");
  const exprs = [...dashboard.panels.flatMap((panel) => {
    assert.ok((panel.targets ?? []).length > 0, `panel "${panel.title}" has queries`);
    return (panel.targets ?? []).map((target) => target.expr ?? "");
  }), ...dashboard.templating.list.map((v) => v.query)];
  const used = new Set<string>();
  for (const expr of exprs) {
    const names = expr.match(/\bcinder_[a-z_]+\b/g) ?? [];
    assert.ok(names.length > 0, `"${expr}" names a cinder metric`);
    for (const name of names) {
      assert.ok(known(name), `"${name}" (in ${expr}) is registered by @cinder/metrics`);
      used.add(name.replace(/_(bucket|sum|count)$/, ""));
    }
  }
  // and the dashboard shows every Cinder metric (not the process defaults) at least once
  const cinderOwn = ["connections", "connect_attempts_total", "channels_joined", "joins_total", "handle_in_duration_seconds",
    "messages_in_total", "messages_out_total", "broadcasts_total", "broadcast_deliveries_total", "errors_total",
    "rate_limited_total", "slow_consumers_total", "presence_members"].map((n) => `cinder_${n}`);
  for (const name of cinderOwn) {
    assert.ok(registered.has(name), `${name} is registered`);
    assert.ok(used.has(name), `${name} has a panel`);
  }
  assert.equal(known("cinder_no_such_metric"), false);
});
