/**
 * `@cinder/dashboard`: a live operator dashboard built on Cinder's own channels. Each node counts
 * its diagnostics events and broadcasts a snapshot every second on the dashboard topic; an
 * operator's page (opt-in, behind the app's own `authorize`) shows every node's numbers and can
 * disconnect a socket id.
 */
export { createDashboard, DASHBOARD_TOPIC, type Dashboard, type DashboardEndpoint, type DashboardOptions } from "./dashboard.js";
export { renderDashboardPage, type PageOptions } from "./page.js";
export { Stats, type NodeSnapshot, type Ranked } from "./stats.js";
