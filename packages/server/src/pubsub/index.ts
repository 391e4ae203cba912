/** The PubSub layer: local subscriptions plus an adapter to other nodes. */
export * from "./pubsub.js";
