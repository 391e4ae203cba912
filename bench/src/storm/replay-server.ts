/**
 * The load-side floor's server: a trivial WebSocket server (a child process) that sends each
 * member what a presence storm of M members must bring it — the `presence_state` of the members
 * joined before it, then `presence_diff`s of the later joins, `group` joins per diff — from
 * frames built once and shared (no presence, no encoding per member), as fast as the socket
 * takes them. Member i (from `user=m<i>`) gets the state of keys [0, g·group) with g = ⌊i/group⌋
 * and the diffs of every later group, so all members receive identical diff frames, as from
 * Cinder. Prints `replay listening on <port>`.
 */
import { createServer } from "node:http";
import type { Socket } from "node:net";
import { WebSocketServer, type WebSocket } from "ws";

const [membersArg, groupArg, topicArg] = process.argv.slice(2);
const members = Number(membersArg);
const group = Math.max(1, Number(groupArg));
const topic = JSON.stringify(topicArg ?? "presence:replay");

function header(length: number): Buffer {
  if (length < 126) return Buffer.from([0x81, length]);
  if (length < 65_536) return Buffer.from([0x81, 126, length >> 8, length & 0xff]);
  const head = Buffer.alloc(10);
  head[0] = 0x81;
  head[1] = 127;
  head.writeUInt32BE(Math.floor(length / 2 ** 32), 2);
  head.writeUInt32BE(length >>> 0, 6);
  return head;
}

const entry = (i: number): string => `${JSON.stringify(`m${i}`)}:{"metas":[{"online_at":${1_764_000_000_000 + i},"phx_ref":"F${i.toString(36).padStart(8, "0")}"}]}`;
// The whole list once; a state of the first k keys is a prefix of it (offsets[k]) and a "}".
const parts: string[] = [];
const offsets: number[] = [1];
let length = 1;
for (let i = 0; i < members; i++) {
  const text = (i === 0 ? "" : ",") + entry(i);
  parts.push(text);
  length += Buffer.byteLength(text);
  offsets.push(length);
}
const list = Buffer.from(`{${parts.join("")}`);
const groups = Math.ceil(members / group);
const diffs: Buffer[] = [];
for (let g = 0; g < groups; g++) {
  const keys: string[] = [];
  for (let i = g * group; i < Math.min(members, (g + 1) * group); i++) keys.push(entry(i));
  const payload = `[null,null,${topic},"presence_diff",{"joins":{${keys.join(",")}},"leaves":{}}]`;
  diffs.push(Buffer.concat([header(Buffer.byteLength(payload)), Buffer.from(payload)]));
}
const stateHead = `["1",null,${topic},"presence_state",`;
const reply = Buffer.from(`["1","1",${topic},"phx_reply",{"status":"ok","response":{}}]`);
const replyFrame = Buffer.concat([header(reply.length), reply]);

const http = createServer((_request, response) => response.writeHead(404).end());
const wss = new WebSocketServer({ server: http, perMessageDeflate: false, clientTracking: false });
wss.on("connection", (ws: WebSocket, request) => {
  const index = Number(/user=m(\d+)/.exec(request.url ?? "")?.[1] ?? 0);
  const socket = (ws as unknown as { _socket: Socket })._socket;
  let joined = false;
  ws.on("message", () => {
    if (joined) return; // heartbeats: not answered (the fleet does not wait for them)
    joined = true;
    const g = Math.floor(index / group);
    const keys = g * group;
    const head = Buffer.from(stateHead);
    const body = keys === 0 ? Buffer.from("{") : list.subarray(0, offsets[keys]);
    const tail = Buffer.from("}]");
    socket.cork();
    socket.write(replyFrame);
    socket.write(Buffer.concat([header(head.length + body.length + tail.length), head]));
    socket.write(body);
    socket.write(tail);
    for (let d = g; d < groups; d++) socket.write(diffs[d]!);
    socket.uncork();
  });
  ws.on("error", () => {});
});
http.listen(0, "127.0.0.1", () => {
  const address = http.address();
  console.log(`replay listening on ${typeof address === "object" && address !== null ? address.port : 0}`);
});
