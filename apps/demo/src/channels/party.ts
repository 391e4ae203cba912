/**
 * The pointing party (`party:<room>`): planning poker on presence. Every member is tracked under
 * their username with meta `{points}` (shown as "voted" until the reveal). The rules live in
 * `../party/round.ts`; this channel keeps one round per party and applies them:
 * - `start` / `next_card` (the driver, or anyone while nobody drives) deal the first / next card
 *   not yet estimated (`new_card` `{card, driver}`, the card with its backlog `position`), or end
 *   the party with `party_over` `{estimates}`;
 * - `vote` `{points}`; once every present user has voted the channel broadcasts `winner`
 *   `{points}` (stored as the card's estimate, and final: later votes are refused) or
 *   `{tie: [...]}`; the tally is re-checked whenever someone leaves;
 * - `revote` (driver) reopens the card (`revote` `{}`); `take` takes the free driver's role;
 * - a user who leaves for longer than the leave grace loses their vote, and if they drove the
 *   role passes to another present user (`driver` `{driver}`), or becomes free.
 * `new_card` and `revote` are intercepted: each channel resets its own vote before passing them
 * on, so votes never leak into the next round. Rounds live in this node's memory.
 */
import { z } from "zod";
import { defineChannel, error, ok, type Meta } from "@cinder/server";
import type { Card, Store } from "../db/store.js";
import { deal, EMPTY_ROUND, leave, revote, take, vote, type Round, type Step, type TableCard } from "../party/round.js";
import type { AppContext, UserSocket } from "./context.js";

export { tally } from "../party/round.js";

/** The allowed estimates. */
export const POINTS = [1, 2, 3, 5, 8, 13] as const;

/** The sample cards a new party starts with. */
export const SAMPLE_CARDS: ReadonlyArray<{ title: string; description: string }> = [
  { title: "Sign-up form", description: "Users sign up with a username and a password, and see clear errors." },
  { title: "Presence list", description: "Show who is in the room, since when, and on how many tabs." },
  { title: "Export estimates", description: "Download the party's estimates as CSV." },
];

/** How long a member may be gone (a reload) before they count as having left (default 1500 ms). */
export const DEFAULT_LEAVE_GRACE_MS = 1500;

/** The party channel's settings. */
export interface PartyOptions {
  /** How long a member may be gone before they count as having left (ms). */
  leaveGraceMs?: number | undefined;
}

type PartySocket = UserSocket<{ party: string }>;

/** Creates the sample cards of a party that has none (once, even when asked concurrently); returns its cards. */
export async function partyCards(store: Store, party: string): Promise<Card[]> {
  return store.partyCards(party, SAMPLE_CARDS);
}

/** A card with its place in the party's backlog. */
export function tableCard(cards: readonly Card[], card: Card): TableCard {
  return { id: card.id, title: card.title, description: card.description, position: cards.findIndex((c) => c.id === card.id) + 1 };
}

/** The pointing party channel. */
export function partyChannel({ store, presence, broadcast, stopping }: AppContext, options: PartyOptions = {}) {
  const graceMs = options.leaveGraceMs ?? DEFAULT_LEAVE_GRACE_MS;
  /** The round in progress per party on this node. */
  const rounds = new Map<string, Round>();
  const roundOf = (party: string): Round => rounds.get(party) ?? EMPTY_ROUND;
  const presentIn = async (topic: string): Promise<string[]> => Object.keys(await presence.list(topic));

  /** The next card to deal: the first not yet estimated after `after` (from the start when null). */
  const nextCard = async (party: string, after: TableCard | null): Promise<TableCard | null> => {
    const cards = await partyCards(store, party);
    const card = cards.find((c) => c.estimate === null && (after === null || c.id > after.id));
    return card === undefined ? null : tableCard(cards, card);
  };

  /** Stores a round's step and announces what changed on `topic`; returns the reply. */
  const apply = async (topic: string, party: string, before: Round, step: Step) => {
    if (!step.ok) return error({ reason: step.reason });
    const round = step.round;
    rounds.set(party, round);
    if (round.card !== null && round.card !== before.card) broadcast(topic, "new_card", { card: round.card, driver: round.driver });
    else if (round.card === null && before.card !== null) await announceOver(topic, party);
    else if (round.driver !== before.driver) broadcast(topic, "driver", { driver: round.driver });
    if (step.revealed !== null) {
      if ("points" in step.revealed && round.card !== null) await store.setEstimate(round.card.id, step.revealed.points);
      broadcast(topic, "winner", step.revealed);
    }
    return ok();
  };

  const announceOver = async (topic: string, party: string): Promise<void> => {
    const cards = await store.cards(party);
    const estimates = cards.filter((c) => c.estimate !== null)
      .map((c) => ({ card: tableCard(cards, c), points: c.estimate }));
    broadcast(topic, "party_over", { estimates });
  };

  /** After the grace, applies `user`'s leave unless they are back (a reload). */
  const leaveLater = (topic: string, party: string, user: string): void => {
    const timer = setTimeout(() => {
      void (async () => {
        const present = await presentIn(topic);
        if (present.includes(user)) return;
        const before = roundOf(party);
        if (before === EMPTY_ROUND) return;
        await apply(topic, party, before, leave(before, user, present));
      })().catch(() => undefined);
    }, graceMs);
    timer.unref();
  };

  const cardShape = z.object({ id: z.number(), title: z.string(), description: z.string(), position: z.number() });
  return defineChannel({
    intercept: ["new_card", "revote"],
    events: {
      start: z.object({}).passthrough(),
      vote: z.object({
        points: z.number().refine((p) => (POINTS as readonly number[]).includes(p), "points must be one of 1, 2, 3, 5, 8, 13"),
      }),
      next_card: z.object({}).passthrough(),
      revote: z.object({}).passthrough(),
      take: z.object({}).passthrough(),
    },
    pushes: {
      new_card: z.object({ card: cardShape, driver: z.string() }),
      winner: z.union([z.object({ points: z.number() }), z.object({ tie: z.array(z.number()) })]),
      party_over: z.object({ estimates: z.array(z.object({ card: cardShape, points: z.number() })) }),
      driver: z.object({ driver: z.string().nullable() }),
      revote: z.object({}),
      card_added: z.object({ card: cardShape }),
    },
    meta: z.object({ points: z.number().nullable() }),

    async join(topic: string, _params: unknown, socket: PartySocket) {
      const party = topic.slice("party:".length);
      if (party.length === 0 || party.length > 100) return error({ reason: "invalid party name" });
      await partyCards(store, party);
      socket.assign({ party });
      socket.send("after_join");
      const round = roundOf(party);
      return ok({ card: round.card, driver: round.driver, outcome: round.outcome });
    },

    async handleInfo(message: unknown, socket: PartySocket) {
      if (message !== "after_join") return;
      socket.push("presence_state", await presence.list(socket.topic));
      const me = socket.assigns.user.username;
      // A reload keeps the vote the round has for this user.
      presence.track(socket, me, { points: roundOf(socket.assigns.party).votes[me] ?? null });
    },

    async handleIn(event, payload, socket: PartySocket) {
      const me = socket.assigns.user.username;
      const { party } = socket.assigns;
      const before = roundOf(party);
      switch (event) {
        case "start":
          if (before.driver !== null && before.driver !== me) return error({ reason: "not_driver" });
          return apply(socket.topic, party, before, deal(before, me, await nextCard(party, null)));
        case "next_card":
          if (before.driver !== me) return error({ reason: "not_driver" });
          return apply(socket.topic, party, before, deal(before, me, await nextCard(party, before.card)));
        case "vote": {
          const present = await presentIn(socket.topic);
          const current = roundOf(party);
          const step = vote(current, me, payload.points, present);
          if (step.ok) presence.update(socket, me, (old: Meta) => ({ ...old, points: payload.points }));
          return apply(socket.topic, party, current, step);
        }
        case "revote": {
          const step = revote(before, me);
          const reply = await apply(socket.topic, party, before, step);
          if (step.ok) broadcast(socket.topic, "revote", {});
          return reply;
        }
        case "take":
          return apply(socket.topic, party, before, take(before, me));
        default:
          return undefined;
      }
    },

    terminate(_reason, socket: PartySocket) {
      if (stopping?.() === true || socket.assigns.party === undefined) return;
      leaveLater(socket.topic, socket.assigns.party, socket.assigns.user.username);
    },

    handleOut(event: string, payload: unknown, socket: PartySocket) {
      // A channel that has not tracked itself yet (its after_join is still queued) has no vote to reset.
      const me = socket.assigns.user.username;
      if (presence.isTracked(socket, me)) presence.update(socket, me, { points: null });
      socket.push(event, payload);
    },
  });
}
