/**
 * The server's channel definitions, as types only, for the typed client:
 * `socket.channel<RetroRoom>("room:x")` types pushes, replies, broadcasts and presence metas
 * from the server's own schemas, so the pages repeat none of them. Nothing is imported at run
 * time (the imports are erased).
 */
import type { retroChannel } from "../../src/channels/retro.js";
import type { videoChannel } from "../../src/channels/videos.js";
import type { notificationsChannel } from "../../src/channels/notifications.js";

/** The retro room channel (`room:<name>`). */
export type RetroRoom = ReturnType<typeof retroChannel>;

/** The notifications channels (`notifications:all`, `notifications:user:<id>`). */
export type NotificationsRoom = ReturnType<typeof notificationsChannel>;

/** The video annotations channel (`videos:<id>`). */
export type VideoRoom = ReturnType<typeof videoChannel>;

/** The retro board as a join carries it (the server's own type). */
export type { ActionItem, Board, Column, Idea, Stage } from "../../src/retro/board.js";
