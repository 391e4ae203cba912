/** The channel layer: declaring channels, routing topics to them, and running each join. */
export * from "./definition.js";
export { ChannelRouter } from "./router.js";
export { ChannelInstance, type ChannelHost } from "./instance.js";
export { BadReturnError, type ResultCallback } from "./results.js";
export { validatePayload, type PayloadIssue, type ValidationOutcome } from "./schema.js";
