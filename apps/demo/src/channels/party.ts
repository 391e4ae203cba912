/**
 * The pointing party (`party:<room>`): planning poker on presence. Every member is tracked under
 * their username with meta `{points}` (shown as "voted" until the reveal). The rules live in
 * `../party/round.ts` and the deck in `../party/deck.ts`; each party's round is kept in the
 * database (`../db/party.ts`), every step in a transaction holding the party's row, so a
 * restarted server or another node finds the round as it was, and two clicks at once are
 * decided one after the other. Events:
 * - `start` / `next_card` (the driver, or anyone while nobody drives) deal the first / next card
 *   not yet estimated, in backlog order (`new_card` `{card, driver}`, the card with its
 *   backlog `position`), or end the party with `party_over` `{estimates}`;
 * - `vote` `{points}` (a card of the party's deck; "?" and "☕" never count); once every present
 *   user has voted the channel broadcasts `winner` `{points, stats}` (stored as the card's
 *   estimate, and final: later votes are refused) or `{tie: [...], stats}`; `stats` is the
 *   average and spread of the numeric votes, or null; the tally is re-checked whenever someone
 *   leaves;
 * - `reveal` (driver) reveals the votes cast so far; `revote` (driver) reopens the card
 *   (`revote` `{}`); `take` takes the free driver's role;
 * - `timer` `{seconds}` (driver; 0 stops it) sets the round's deadline (`timer` `{deadline, now}`);
 *   when it passes, the server reveals the votes cast so far;
 * - `deck` `{preset}` or `{custom: [...]}` (who may drive) picks the deck (`deck` `{deck, cleared}`);
 * - `edit_card` `{id, title, description}`, `delete_card` `{id}` (not the card on the table),
 *   `move_card` `{id, to}` (anyone in the party) change the backlog (`backlog` `{cards}`).
 * A user who leaves for longer than the leave grace loses their vote, and if they drove the role
 * passes to another present user (`driver` `{driver}`), or becomes free; right after a node
 * starts, the grace is three times as long (pages reconnecting after a restart). `new_card`, `revote`
 * and `deck` are intercepted: each channel resets its own vote before passing them on.
 */
import { z } from "zod";
import { defineChannel, error, ok, type Meta } from "@cinder/server";
import type { Db } from "../db/db.js";
import type { BacklogCard } from "../db/party.js";
import type { Store } from "../db/store.js";
import { customDeck, isPreset, preset, PRESETS, type Deck } from "../party/deck.js";
import {
  deal, expire, reveal, revote, setDeck, startTimer, stopTimer, sweep, take, TIMER_LIMITS, vote,
  type Round, type Step, type TableCard,
} from "../party/round.js";
import { safeText } from "../text.js";
import type { AppContext, UserSocket } from "./context.js";

export { tally } from "../party/round.js";

/** The sample cards a new party starts with. */
export const SAMPLE_CARDS: ReadonlyArray<{ title: string; description: string }> = [
  { title: "Sign-up form", description: "Users sign up with a username and a password, and see clear errors." },
  { title: "Presence list", description: "Show who is in the room, since when, and on how many tabs." },
  { title: "Export estimates", description: "Download the party's estimates as CSV." },
];

/** How long a member may be gone (a reload) before they count as having left (default 1500 ms). */
export const DEFAULT_LEAVE_GRACE_MS = 1500;

/**
 * For a round in progress when a node starts (carried over a restart), nobody's absence counts
 * until this many leave graces after the start: pages reconnect at their own pace (with
 * backoff), and the round waits for them.
 */
export const RESTART_GRACE_FACTOR = 3;

/** The party channel's settings. */
export interface PartyOptions {
  /** How long a member may be gone before they count as having left (ms). */
  leaveGraceMs?: number | undefined;
}

type PartySocket = UserSocket<{ party: string }>;

/** A party's backlog, creating its sample cards when the party is new (once, even when asked concurrently). */
export async function partyCards(store: Store, party: string): Promise<BacklogCard[]> {
  return store.party.ensure(party, SAMPLE_CARDS);
}

/** A backlog card as the table shows it. */
export function tableCard(card: BacklogCard): TableCard {
  return { id: card.id, title: card.title, description: card.description, position: card.position };
}

/** The estimated cards of a backlog, as `party_over` and the summary list them. */
export function estimatesOf(cards: readonly BacklogCard[]): Array<{ card: TableCard; points: BacklogCard["estimate"]; stats: BacklogCard["stats"] }> {
  return cards.filter((c) => c.estimate !== null).map((c) => ({ card: tableCard(c), points: c.estimate, stats: c.stats }));
}

const point = z.union([z.number(), z.string().max(12)]);
const id = z.number().int().positive();
const cardText = { title: safeText("title").trim().min(1).max(200), description: safeText("description").trim().max(2000) };
const cardShape = z.object({ id: z.number(), title: z.string(), description: z.string(), position: z.number() });
const statsShape = z.object({ average: z.number(), min: z.number(), max: z.number(), count: z.number() }).nullable();
const deckShape = z.object({ name: z.string(), values: z.array(point) });
const backlogShape = z.array(cardShape.extend({ estimate: point.nullable(), stats: statsShape }));

/** The pointing party channel. */
export function partyChannel({ store, presence, broadcast, stopping }: AppContext, options: PartyOptions = {}) {
  const graceMs = options.leaveGraceMs ?? DEFAULT_LEAVE_GRACE_MS;
  const presentIn = async (topic: string): Promise<string[]> => Object.keys(await presence.list(topic));
  /** This node's timers: each party's round deadline, and a pending sweep after the leave grace. */
  const deadlines = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  const sweeps = new Map<string, NodeJS.Timeout>();
  const bootedAt = Date.now();
  /** Parties this node has seen, and those whose round was in progress when this node first saw them (after a restart). */
  const seen = new Set<string>();
  const carried = new Set<string>();

  /** The next card to deal: the first not yet estimated after `after`'s place (from the start when null). */
  const nextCard = async (tx: Db, party: string, after: TableCard | null): Promise<TableCard | null> => {
    const cards = await store.party.cards(party, tx);
    const from = after === null ? -1 : cards.findIndex((c) => c.id === after.id);
    const card = cards.find((c, i) => c.estimate === null && i > from);
    return card === undefined ? null : tableCard(card);
  };

  /**
   * Runs one step on the party's locked round, stores it (and a winner as the card's estimate),
   * then announces what changed on `topic`; returns the reply.
   */
  const change = async (topic: string, party: string, fn: (round: Round, present: string[], tx: Db) => Step | Promise<Step>) => {
    const present = await presentIn(topic);
    const { before, step } = await store.party.withRound(party, async (tx, round) => {
      const result = await fn(round, present, tx);
      if (result.ok) {
        await store.party.save(tx, party, result.round);
        const won = result.revealed;
        if (won !== null && "points" in won && result.round.card !== null) await store.party.setEstimate(tx, result.round.card.id, won.points, won.stats);
      }
      return { before: round, step: result };
    });
    if (!step.ok) return error({ reason: step.reason });
    await announce(topic, party, before, step);
    return ok();
  };

  const announce = async (topic: string, party: string, before: Round, step: Step & { ok: true }): Promise<void> => {
    const { round } = step;
    const sameCard = round.card?.id === before.card?.id;
    if (round.card !== null && !sameCard) broadcast(topic, "new_card", { card: round.card, driver: round.driver });
    else if (round.card === null && before.card !== null) broadcast(topic, "party_over", { estimates: estimatesOf(await store.party.cards(party)) });
    else if (round.driver !== before.driver) broadcast(topic, "driver", { driver: round.driver });
    if (JSON.stringify(round.deck) !== JSON.stringify(before.deck)) broadcast(topic, "deck", { deck: round.deck, cleared: step.cleared });
    else if (sameCard && step.cleared && round.card !== null) broadcast(topic, "revote", {});
    if (sameCard && round.card !== null && round.deadline !== before.deadline) broadcast(topic, "timer", { deadline: round.deadline, now: Date.now() });
    if (step.revealed !== null) {
      broadcast(topic, "winner", step.revealed);
      if ("points" in step.revealed) await announceBacklog(topic, party);
    }
    schedule(topic, party, round);
  };

  const announceBacklog = async (topic: string, party: string): Promise<void> => {
    broadcast(topic, "backlog", { cards: await store.party.cards(party) });
  };

  const quietly = (work: () => Promise<unknown>): void => {
    if (stopping?.() === true) return;
    work().catch(() => undefined);
  };

  /** Makes sure this node reveals the round when its deadline passes (any node may: the first one does). */
  const schedule = (topic: string, party: string, round: Round): void => {
    const known = deadlines.get(party);
    if (known !== undefined && known.at === round.deadline) return;
    if (known !== undefined) clearTimeout(known.timer);
    deadlines.delete(party);
    if (round.deadline === null || round.card === null) return;
    const at = round.deadline;
    const timer = setTimeout(() => {
      deadlines.delete(party);
      quietly(() => change(topic, party, (r, present) => expire(r, present, Date.now())));
    }, Math.max(0, at - Date.now()) + 10);
    timer.unref();
    deadlines.set(party, { at, timer });
  };

  /**
   * After the grace, applies the leaves of whoever the round knows and is not back (a reload is
   * not a leave). Each join or leave pushes the party's sweep back by a whole grace.
   */
  const sweepLater = (topic: string, party: string): void => {
    clearTimeout(sweeps.get(party));
    // A round carried over a restart: pages reconnect at their own pace (backoff), so give them longer.
    const delay = carried.has(party) ? Math.max(graceMs, bootedAt + RESTART_GRACE_FACTOR * graceMs - Date.now()) : graceMs;
    const timer = setTimeout(() => {
      sweeps.delete(party);
      carried.delete(party);
      quietly(async () => {
        const present = await presentIn(topic);
        const round = await store.party.round(party);
        const known = [...(round.driver === null ? [] : [round.driver]), ...Object.keys(round.votes)];
        const settles = round.card !== null && round.outcome === null && present.length > 0 && present.every((u) => round.votes[u] !== undefined);
        if (known.some((user) => !present.includes(user)) || settles) await change(topic, party, (r, p) => sweep(r, p));
      });
    }, delay);
    timer.unref();
    sweeps.set(party, timer);
  };

  const backlogChange = async (topic: string, party: string, fn: (tx: Db, round: Round) => Promise<string | null>) => {
    const refusal = await store.party.withRound(party, fn);
    if (refusal !== null) return error({ reason: refusal });
    await announceBacklog(topic, party);
    return ok();
  };

  return defineChannel({
    intercept: ["new_card", "revote", "deck"],
    events: {
      start: z.object({}).passthrough(),
      vote: z.object({ points: point }),
      next_card: z.object({}).passthrough(),
      revote: z.object({}).passthrough(),
      reveal: z.object({}).passthrough(),
      take: z.object({}).passthrough(),
      timer: z.object({ seconds: z.number().int().refine((s) => s === 0 || (s >= TIMER_LIMITS.min && s <= TIMER_LIMITS.max),
        `seconds must be 0 (stop) or ${TIMER_LIMITS.min} to ${TIMER_LIMITS.max}`) }),
      deck: z.union([
        z.object({ preset: z.string().refine(isPreset, `preset must be one of ${Object.keys(PRESETS).join(", ")}`) }),
        z.object({ custom: z.array(z.union([z.string().max(40), z.number()])).max(40) }),
      ]),
      edit_card: z.object({ id, ...cardText }),
      delete_card: z.object({ id }),
      move_card: z.object({ id, to: z.number().int().min(1) }),
    },
    pushes: {
      new_card: z.object({ card: cardShape, driver: z.string() }),
      winner: z.union([z.object({ points: point, stats: statsShape }), z.object({ tie: z.array(point), stats: statsShape })]),
      party_over: z.object({ estimates: z.array(z.object({ card: cardShape, points: point, stats: statsShape })) }),
      driver: z.object({ driver: z.string().nullable() }),
      revote: z.object({}),
      timer: z.object({ deadline: z.number().nullable(), now: z.number() }),
      deck: z.object({ deck: deckShape, cleared: z.boolean() }),
      backlog: z.object({ cards: backlogShape }),
    },
    meta: z.object({ points: point.nullable() }),

    async join(topic: string, _params: unknown, socket: PartySocket) {
      const party = topic.slice("party:".length);
      if (party.length === 0 || party.length > 100) return error({ reason: "invalid party name" });
      await partyCards(store, party);
      socket.assign({ party });
      socket.send("after_join");
      const round = await store.party.round(party);
      if (!seen.has(party)) {
        seen.add(party);
        if (round.card !== null) carried.add(party);
      }
      schedule(topic, party, round);
      return ok({ card: round.card, driver: round.driver, outcome: round.outcome, deadline: round.deadline, now: Date.now(), deck: round.deck });
    },

    async handleInfo(message: unknown, socket: PartySocket) {
      if (message !== "after_join") return;
      socket.push("presence_state", await presence.list(socket.topic));
      const me = socket.assigns.user.username;
      // A reload (or a restarted server) keeps the vote the round has for this user.
      const round = await store.party.round(socket.assigns.party);
      presence.track(socket, me, { points: round.votes[me] ?? null });
      // Whoever the round knows and does not come back (after a restart, say) leaves after the grace.
      sweepLater(socket.topic, socket.assigns.party);
    },

    async handleIn(event, payload, socket: PartySocket) {
      const me = socket.assigns.user.username;
      const { party } = socket.assigns;
      const topic = socket.topic;
      switch (event) {
        case "start":
          return change(topic, party, async (r, _p, tx) => deal(r, me, await nextCard(tx, party, null)));
        case "next_card":
          return change(topic, party, async (r, _p, tx) => (r.driver !== me ? { ok: false, reason: "not_driver" } : deal(r, me, await nextCard(tx, party, r.card))));
        case "vote": {
          const reply = await change(topic, party, (r, present) => vote(r, me, payload.points, present.includes(me) ? present : [...present, me]));
          if (reply.status === "ok") presence.update(socket, me, (old: Meta) => ({ ...old, points: payload.points }));
          return reply;
        }
        case "revote":
          return change(topic, party, (r) => revote(r, me));
        case "reveal":
          return change(topic, party, (r, present) => reveal(r, me, present));
        case "take":
          return change(topic, party, (r) => take(r, me));
        case "timer":
          return change(topic, party, (r) => (payload.seconds === 0 ? stopTimer(r, me) : startTimer(r, me, payload.seconds, Date.now())));
        case "deck": {
          let deck: Deck;
          if ("preset" in payload) deck = preset(payload.preset as keyof typeof PRESETS);
          else {
            const custom = customDeck(payload.custom);
            if (!custom.ok) return error({ reason: "invalid_deck", message: custom.error });
            deck = custom.deck;
          }
          return change(topic, party, (r) => setDeck(r, me, deck));
        }
        case "edit_card":
          return backlogChange(topic, party, (tx) => store.party.editCard(tx, party, payload.id, payload.title, payload.description));
        case "delete_card":
          return backlogChange(topic, party, (tx, r) => store.party.deleteCard(tx, party, r, payload.id));
        case "move_card":
          return backlogChange(topic, party, (tx) => store.party.moveCard(tx, party, payload.id, payload.to));
        default:
          return undefined;
      }
    },

    terminate(_reason, socket: PartySocket) {
      if (stopping?.() === true || socket.assigns.party === undefined) return;
      sweepLater(socket.topic, socket.assigns.party);
    },

    handleOut(event: string, payload: unknown, socket: PartySocket) {
      // A channel that has not tracked itself yet (its after_join is still queued) has no vote to reset.
      const me = socket.assigns.user.username;
      const resets = event !== "deck" || (payload as { cleared?: unknown }).cleared === true;
      if (resets && presence.isTracked(socket, me)) presence.update(socket, me, { points: null });
      socket.push(event, payload);
    },
  });
}
