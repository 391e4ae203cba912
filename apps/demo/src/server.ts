/**
 * The apps' web server (`npm start`, PORT default 4000). The apps themselves (retro rooms,
 * video annotations, pointing party, admin notifications) are being built (issue 7); until
 * then this serves a page that says so, with the socket endpoint mounted at `/socket`.
 */
import { createServer } from "node:http";
import { attach, defineSocket } from "@cinder/server";

const page = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Cinder</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;color:#222}</style>
</head><body>
<h1>Cinder</h1>
<p>Real-time channels and presence for TypeScript, speaking the Phoenix protocol.</p>
<p>The apps (retro rooms, video annotations, pointing party, admin notifications) are not built yet.
The socket endpoint is mounted at <code>/socket</code>.</p>
</body></html>`;

const server = createServer((request, response) => {
  if (request.method === "GET" && (request.url === "/" || request.url === "/index.html")) {
    response.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(page);
    return;
  }
  response.writeHead(404, { "content-type": "text/plain; charset=utf-8" }).end("not found");
});

attach(server, { path: "/socket", socket: defineSocket({ channels: {} }) });

const port = Number(process.env.PORT ?? 4000);
server.listen(port, () => {
  console.log(`cinder apps listening on http://localhost:${port}`);
});
