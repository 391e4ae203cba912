/**
 * Static assets under `/assets/`: the compiled page scripts, the stylesheet, the sample video
 * (with HTTP Range requests, which seeking needs) and the browser build of `@cinder/client`.
 * Paths are resolved inside their roots only.
 */
import { createReadStream, statSync } from "node:fs";
import { extname, join, normalize, resolve, sep } from "node:path";
import type { IncomingMessage, ServerResponse } from "node:http";

const TYPES: Record<string, string> = {
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".map": "application/json",
  ".webm": "video/webm",
  ".mp4": "video/mp4",
  ".png": "image/png",
  ".svg": "image/svg+xml",
  ".ico": "image/x-icon",
};

/** A URL prefix served from a folder. */
export interface AssetRoot {
  prefix: string;
  dir: string;
}

function fileIn(root: AssetRoot, path: string): string | undefined {
  const relative = normalize(decodeURIComponent(path.slice(root.prefix.length)));
  const base = resolve(root.dir);
  const file = resolve(join(base, relative));
  if (!file.startsWith(base + sep)) return undefined;
  try {
    return statSync(file).isFile() ? file : undefined;
  } catch {
    return undefined;
  }
}

/** Serves `path` from the first root that has it; returns false when none does. */
export function serveAsset(roots: readonly AssetRoot[], request: IncomingMessage, response: ServerResponse, path: string): boolean {
  let file: string | undefined;
  for (const root of roots) {
    if (!path.startsWith(root.prefix)) continue;
    try {
      file = fileIn(root, path);
    } catch {
      file = undefined;
    }
    if (file !== undefined) break;
  }
  if (file === undefined) return false;
  const size = statSync(file).size;
  const headers: Record<string, string | number> = {
    "content-type": TYPES[extname(file)] ?? "application/octet-stream",
    "accept-ranges": "bytes",
    "cache-control": "no-cache",
  };
  const range = /^bytes=(\d*)-(\d*)$/.exec(request.headers.range ?? "");
  if (range !== null && (range[1] !== "" || range[2] !== "")) {
    const start = range[1] === "" ? Math.max(0, size - Number(range[2])) : Number(range[1]);
    const end = range[1] === "" || range[2] === "" ? size - 1 : Math.min(Number(range[2]), size - 1);
    if (start > end || start >= size) {
      response.writeHead(416, { "content-range": `bytes */${size}` }).end();
      return true;
    }
    response.writeHead(206, { ...headers, "content-range": `bytes ${start}-${end}/${size}`, "content-length": end - start + 1 });
    if (request.method === "HEAD") response.end();
    else createReadStream(file, { start, end }).pipe(response);
    return true;
  }
  response.writeHead(200, { ...headers, "content-length": size });
  if (request.method === "HEAD") response.end();
  else createReadStream(file).pipe(response);
  return true;
}
