/** Runs the Fastify example: `SECRET=... PORT=4000 npm start -w examples/fastify`. */
import { startApp } from "./app.js";

const secret = process.env.SECRET ?? "change me: a long random secret for JWT signing";
const app = await startApp({ secret, port: Number(process.env.PORT ?? 4000), host: process.env.HOST ?? "127.0.0.1" });
console.log(`Fastify + Cinder on ${app.url} (socket at ${app.url.replace(/^http/, "ws")}/socket)`);
