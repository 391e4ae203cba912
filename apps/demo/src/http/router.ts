/** A tiny router: `METHOD /path/:param` patterns to handlers, matched in order. */
import type { IncomingMessage, ServerResponse } from "node:http";

/** A route handler; `params` holds the `:name` segments. */
export type Handler = (request: IncomingMessage, response: ServerResponse, params: Record<string, string>, url: URL) => Promise<void> | void;

interface Route {
  method: string;
  pattern: RegExp;
  names: string[];
  handler: Handler;
}

/** Routes requests by method and path. */
export class Router {
  private readonly routes: Route[] = [];

  /** Adds a route, e.g. `add("GET", "/retro/:room", handler)`. */
  add(method: string, path: string, handler: Handler): this {
    const names: string[] = [];
    const pattern = new RegExp(`^${path.replace(/:([a-z]+)/g, (_m, name: string) => { names.push(name); return "([^/]+)"; })}/?$`);
    this.routes.push({ method, pattern, names, handler });
    return this;
  }

  /** The handler and params for a request, or undefined (with `allowed` methods when only the method differs). */
  match(method: string, path: string): { handler: Handler; params: Record<string, string> } | { allowed: string[] } | undefined {
    const allowed: string[] = [];
    for (const route of this.routes) {
      const found = route.pattern.exec(path);
      if (found === null) continue;
      if (route.method !== method) {
        allowed.push(route.method);
        continue;
      }
      const params: Record<string, string> = {};
      route.names.forEach((name, i) => {
        try {
          params[name] = decodeURIComponent(found[i + 1]!);
        } catch {
          params[name] = found[i + 1]!;
        }
      });
      return { handler: route.handler, params };
    }
    return allowed.length > 0 ? { allowed } : undefined;
  }
}
