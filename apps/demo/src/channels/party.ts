/**
 * The pointing party (`party:<room>`): planning poker on presence. Every member is tracked under
 * their username with meta `{points}`; `start` makes the sender the driver and deals the first
 * card not yet estimated (`new_card` `{card, driver}`); `vote` `{points}` sets the sender's meta,
 * and once every present user has voted the channel broadcasts `winner` `{points}` (stored as
 * the card's estimate) or `{tie: [...]}`; `next_card` (driver only) deals the next card, or
 * ends the party with `party_over` `{estimates}`. `new_card` is intercepted: each channel resets
 * its own vote to null before passing it on, so votes never leak into the next round.
 */
import { z } from "zod";
import { defineChannel, error, ok, type Meta } from "@cinder/server";
import type { Card, Store } from "../db/store.js";
import type { AppContext, UserSocket } from "./context.js";

/** The allowed estimates. */
export const POINTS = [1, 2, 3, 5, 8, 13] as const;

/** The sample cards a new party starts with. */
export const SAMPLE_CARDS: ReadonlyArray<{ title: string; description: string }> = [
  { title: "Sign-up form", description: "Users sign up with a username and a password, and see clear errors." },
  { title: "Presence list", description: "Show who is in the room, since when, and on how many tabs." },
  { title: "Export estimates", description: "Download the party's estimates as CSV." },
];

/** What a party's channel remembers: the card on the table and who drives. */
type Round = {
  card: Card | null;
  driver: string | null;
};

type PartySocket = UserSocket<Round & { party: string }>;

/** Creates the sample cards of a party that has none; returns its cards. */
export async function partyCards(store: Store, party: string): Promise<Card[]> {
  const cards = await store.cards(party);
  if (cards.length > 0) return cards;
  for (const card of SAMPLE_CARDS) await store.addCard(party, card.title, card.description);
  return store.cards(party);
}

/** The outcome of a round: the points with most votes, or the tied ones. */
export function tally(votes: readonly number[]): { points: number } | { tie: number[] } {
  const counts = new Map<number, number>();
  for (const points of votes) counts.set(points, (counts.get(points) ?? 0) + 1);
  const best = Math.max(...counts.values());
  const top = [...counts].filter(([, n]) => n === best).map(([points]) => points).sort((a, b) => a - b);
  return top.length === 1 ? { points: top[0]! } : { tie: top };
}

/** The pointing party channel. */
export function partyChannel({ store, presence }: AppContext) {
  /** The round in progress per party on this node, so late joiners see the card on the table. */
  const rounds = new Map<string, Round>();

  const nextCard = async (party: string, after: Card | null): Promise<Card | undefined> =>
    (await partyCards(store, party)).find((card) => card.estimate === null && (after === null || card.id > after.id));

  const dealOrEnd = async (socket: PartySocket, card: Card | undefined, driver: string): Promise<void> => {
    if (card !== undefined) {
      socket.broadcast("new_card", { card: { id: card.id, title: card.title, description: card.description }, driver });
      return;
    }
    const cards = await store.cards(socket.assigns.party);
    const estimates = cards.filter((c) => c.estimate !== null)
      .map((c) => ({ card: { id: c.id, title: c.title, description: c.description }, points: c.estimate }));
    socket.broadcast("party_over", { estimates });
  };

  return defineChannel({
    intercept: ["new_card", "party_over"],
    events: {
      start: z.object({}).passthrough(),
      vote: z.object({
        points: z.number().refine((p) => (POINTS as readonly number[]).includes(p), "points must be one of 1, 2, 3, 5, 8, 13"),
      }),
      next_card: z.object({}).passthrough(),
    },
    pushes: {
      new_card: z.object({ card: z.object({ id: z.number(), title: z.string(), description: z.string() }), driver: z.string() }),
      winner: z.union([z.object({ points: z.number() }), z.object({ tie: z.array(z.number()) })]),
      party_over: z.object({ estimates: z.array(z.object({ card: z.object({ id: z.number(), title: z.string() }), points: z.number() })) }),
    },
    meta: z.object({ points: z.number().nullable() }),

    async join(topic: string, _params: unknown, socket: PartySocket) {
      const party = topic.slice("party:".length);
      if (party.length === 0 || party.length > 100) return error({ reason: "invalid party name" });
      await partyCards(store, party);
      const round = rounds.get(party) ?? { card: null, driver: null };
      socket.assign({ party, card: round.card, driver: round.driver });
      socket.send("after_join");
      return ok({ card: round.card, driver: round.driver });
    },

    async handleInfo(message: unknown, socket: PartySocket) {
      if (message !== "after_join") return;
      socket.push("presence_state", await presence.list(socket.topic));
      presence.track(socket, socket.assigns.user.username, { points: null });
    },

    async handleIn(event, payload, socket: PartySocket) {
      const me = socket.assigns.user.username;
      switch (event) {
        case "start":
          await dealOrEnd(socket, await nextCard(socket.assigns.party, null), me);
          return ok();
        case "next_card":
          if (socket.assigns.driver !== me) return error({ reason: "not_driver" });
          await dealOrEnd(socket, await nextCard(socket.assigns.party, socket.assigns.card), me);
          return ok();
        case "vote": {
          const card = socket.assigns.card;
          if (card === null) return error({ reason: "no_card" });
          presence.update(socket, me, (old: Meta) => ({ ...old, points: payload.points }));
          const entries = Object.values(await presence.list(socket.topic));
          const votes = entries.map((entry) => entry.metas.map((meta) => meta.points).find((p) => typeof p === "number"));
          if (votes.every((points) => typeof points === "number")) {
            const outcome = tally(votes as number[]);
            if ("points" in outcome) await store.setEstimate(card.id, outcome.points);
            socket.broadcast("winner", outcome);
          }
          return ok();
        }
        default:
          return undefined;
      }
    },

    handleOut(event: string, payload: unknown, socket: PartySocket) {
      if (event === "new_card") {
        const { card, driver } = payload as { card: Card; driver: string };
        const round = { card: { ...card, estimate: null }, driver };
        rounds.set(socket.assigns.party, round);
        socket.assign(round);
        // A channel that has not tracked itself yet (its after_join is still queued) has no vote to reset.
        if (presence.isTracked(socket, socket.assigns.user.username)) presence.update(socket, socket.assigns.user.username, { points: null });
      } else if (event === "party_over") {
        rounds.delete(socket.assigns.party);
        socket.assign({ card: null, driver: null });
      }
      socket.push(event, payload);
    },
  });
}
