/**
 * Compile-time checks of the typed channel API: payload types flow from the declared schemas,
 * and a handler that misuses them does not compile. `tsc` checks the `@ts-expect-error` lines
 * (an unused one is itself an error), so these assertions fail the build, not only the test.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { z } from "zod";
import { defineChannel, ok, type ChannelSocket, type EventPayload } from "../src/index.js";

const events = {
  new_msg: z.object({ body: z.string() }),
  vote: z.object({ points: z.number() }),
};

test("payload types come from the schemas; misuse does not compile", () => {
  const Room = defineChannel({
    events,
    join: (_topic: string, _params: unknown, socket: ChannelSocket<{ user: string }>) => {
      const user: string = socket.assigns.user;
      // @ts-expect-error assigns are typed: no such field
      void socket.assigns.missing;
      return user.length > 0 ? ok() : undefined;
    },
    handleIn(event, payload, socket) {
      if (event === "new_msg") {
        const body: string = payload.body;
        // @ts-expect-error new_msg has no points
        void payload.points;
        return ok({ body, by: socket.assigns.user });
      }
      const points: number = payload.points;
      return ok({ points });
    },
  });
  const body: EventPayload<typeof events, "new_msg"> = { body: "x" };
  // @ts-expect-error body must be a string
  const wrong: EventPayload<typeof events, "new_msg"> = { body: 1 };
  assert.equal(typeof Room.handleIn, "function");
  assert.deepEqual([body, wrong], [{ body: "x" }, { body: 1 }]);
});

const pushes = {
  new_card: z.object({ card: z.object({ id: z.number(), title: z.string() }), driver: z.string() }),
  winner: z.object({ points: z.number() }),
};

test("handleOut takes the intercepted events, each payload typed by its pushes schema", () => {
  const seen: string[] = [];
  const Party = defineChannel({
    pushes,
    intercept: ["new_card", "party_over"],
    join: () => ok(),
    handleOut(event, payload, socket) {
      if (event === "new_card") {
        const title: string = payload.card.title;
        // @ts-expect-error new_card's card has no estimate
        void payload.card.estimate;
        seen.push(title);
      } else {
        // party_over is intercepted but has no pushes schema: its payload is unknown
        // @ts-expect-error unknown payloads must be narrowed before use
        void payload.estimates;
        seen.push(event);
      }
      // @ts-expect-error winner is not intercepted, so handleOut never sees it
      if (event === "winner") seen.push("never");
      socket.push(event, payload);
    },
  });
  const Untyped = defineChannel({
    join: () => ok(),
    handleOut(event, payload, socket) {
      const name: string = event;
      socket.push(name, payload);
    },
  });
  // @ts-expect-error an intercept list must hold event names
  defineChannel({ intercept: [1], join: () => ok() });
  assert.deepEqual(Party.intercept, ["new_card", "party_over"]);
  assert.equal(typeof Untyped.handleOut, "function");
});
