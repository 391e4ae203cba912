/**
 * The rules of one pointing-party round, pure: who drives, who may deal, vote, reveal and
 * re-vote, when the votes are in ("once all present users have voted", re-checked whenever
 * someone votes or leaves), the round's timer (a deadline the server owns: when it passes, the
 * votes cast so far are revealed) and the party's deck. The channel keeps each party's `Round`
 * in the database and applies these steps; a step returns the next round (and what to
 * announce) or a refusal, never throws.
 */
import { DEFAULT_DECK, inDeck, tally, type Deck, type Outcome, type Point } from "./deck.js";

export { tally, type Outcome, type Point } from "./deck.js";

/** A card as the table shows it: its place in the backlog (1-based), not its database id. */
export interface TableCard {
  id: number;
  title: string;
  description: string;
  position: number;
}

/** The round in progress of one party. */
export interface Round {
  /** The card on the table, or null before the first deal and after the party is over. */
  readonly card: TableCard | null;
  /** Who deals, reveals and re-votes; null when the role is free (anyone may take it). */
  readonly driver: string | null;
  /** The votes cast on the card on the table, by username. */
  readonly votes: Readonly<Record<string, Point>>;
  /** Set once every present user has voted (or the driver revealed, or the timer ran out); a winner is final until a re-vote. */
  readonly outcome: Outcome | null;
  /** When the round's timer runs out (ms since the epoch), or null without a timer. */
  readonly deadline: number | null;
  /** The cards people vote with. */
  readonly deck: Deck;
}

/** Why a step was refused (the reply's `reason`). */
export type Refusal = "not_driver" | "no_card" | "revealed" | "driver_present" | "not_in_deck";

/** A step's result: the next round, whether it revealed an outcome and whether it cleared the votes; or a refusal. */
export type Step =
  | { ok: true; round: Round; revealed: Outcome | null; cleared: boolean }
  | { ok: false; reason: Refusal };

/** No card on the table, nobody driving, the default deck. */
export const EMPTY_ROUND: Round = { card: null, driver: null, votes: {}, outcome: null, deadline: null, deck: DEFAULT_DECK };

/** The longest timer a driver may set (s), and the shortest. */
export const TIMER_LIMITS = { min: 5, max: 3600 } as const;

const to = (round: Round, revealed: Outcome | null = null, cleared = false): Step => ({ ok: true, round, revealed, cleared });

/** True when `user` may drive: they drive, or nobody does. */
export function mayDrive(round: Round, user: string): boolean {
  return round.driver === null || round.driver === user;
}

/** True once the card on the table has a winner (votes are then refused until a re-vote). */
export function isFinal(round: Round): boolean {
  return round.outcome !== null && "points" in round.outcome;
}

/** Reveals the votes of `present` now (the timer, if any, stops). */
function revealNow(round: Round, present: readonly string[]): Step {
  const votes = present.map((user) => round.votes[user]).filter((v): v is Point => v !== undefined);
  const outcome = tally(votes, round.deck);
  return to({ ...round, outcome, deadline: null }, outcome);
}

/** Reveals the outcome when every present user has voted (only their votes count). */
export function settle(round: Round, present: readonly string[]): Step {
  if (round.card === null || isFinal(round) || present.length === 0) return to(round);
  if (!present.every((user) => round.votes[user] !== undefined)) return to(round);
  return revealNow(round, present);
}

/** `user` deals `card` (the first or the next one; null ends the party): driver only. */
export function deal(round: Round, user: string, card: TableCard | null): Step {
  if (!mayDrive(round, user)) return { ok: false, reason: "not_driver" };
  if (card === null) return to({ ...EMPTY_ROUND, deck: round.deck }, null, true);
  return to({ card, driver: user, votes: {}, outcome: null, deadline: null, deck: round.deck }, null, true);
}

/** `user` votes `points` (a card of the deck) on the card on the table; refused once the card has a winner. */
export function vote(round: Round, user: string, points: Point, present: readonly string[]): Step {
  if (round.card === null) return { ok: false, reason: "no_card" };
  if (isFinal(round)) return { ok: false, reason: "revealed" };
  if (!inDeck(round.deck, points)) return { ok: false, reason: "not_in_deck" };
  return settle({ ...round, votes: { ...round.votes, [user]: points }, outcome: null }, present);
}

/** The driver reveals the votes cast so far (those of present users), without waiting for the rest. */
export function reveal(round: Round, user: string, present: readonly string[]): Step {
  if (round.card === null) return { ok: false, reason: "no_card" };
  if (round.driver !== user) return { ok: false, reason: "not_driver" };
  if (isFinal(round)) return { ok: false, reason: "revealed" };
  return revealNow(round, present);
}

/** The driver reopens the card on the table for voting (every vote cleared, the timer stopped). */
export function revote(round: Round, user: string): Step {
  if (round.card === null) return { ok: false, reason: "no_card" };
  if (round.driver !== user) return { ok: false, reason: "not_driver" };
  return to({ ...round, votes: {}, outcome: null, deadline: null }, null, true);
}

/** The driver starts the round's timer: it runs out `seconds` after `now` (clamped to TIMER_LIMITS by the caller's schema). */
export function startTimer(round: Round, user: string, seconds: number, now: number): Step {
  if (round.card === null) return { ok: false, reason: "no_card" };
  if (round.driver !== user) return { ok: false, reason: "not_driver" };
  if (isFinal(round)) return { ok: false, reason: "revealed" };
  return to({ ...round, deadline: now + seconds * 1000 });
}

/** The driver stops the round's timer. */
export function stopTimer(round: Round, user: string): Step {
  if (round.card === null) return { ok: false, reason: "no_card" };
  if (round.driver !== user) return { ok: false, reason: "not_driver" };
  return to({ ...round, deadline: null });
}

/** Once the deadline has passed (`now`), the votes of present users are revealed; before, nothing changes. */
export function expire(round: Round, present: readonly string[], now: number): Step {
  if (round.card === null || round.deadline === null || round.deadline > now || isFinal(round)) return to(round);
  return revealNow(round, present);
}

/** `user` (who may drive) picks the deck; votes on a card without a winner are cleared (they were on the old deck). */
export function setDeck(round: Round, user: string, deck: Deck): Step {
  if (!mayDrive(round, user)) return { ok: false, reason: "not_driver" };
  if (round.card === null || isFinal(round)) return to({ ...round, deck });
  return to({ ...round, deck, votes: {}, outcome: null }, null, Object.keys(round.votes).length > 0);
}

/** `user` takes the free driver's role. */
export function take(round: Round, user: string): Step {
  if (round.driver !== null && round.driver !== user) return { ok: false, reason: "driver_present" };
  return to({ ...round, driver: user });
}

/**
 * `user` has left (past the grace): their vote no longer counts, the driver's role passes to
 * the first other present user (by name) or becomes free, and the tally is re-checked.
 */
export function leave(round: Round, user: string, present: readonly string[]): Step {
  const others = present.filter((p) => p !== user);
  const votes = { ...round.votes };
  if (!isFinal(round)) delete votes[user];
  const driver = round.driver === user ? ([...others].sort()[0] ?? null) : round.driver;
  return settle({ ...round, votes, driver }, others);
}

/**
 * Applies `leave` for everyone the round knows (the driver, the voters) who is not present,
 * then re-checks the tally: what a node runs after the leave grace, and after a restart, when
 * some of those who were in the round never came back.
 */
export function sweep(round: Round, present: readonly string[]): Step {
  let current = round;
  let revealed: Outcome | null = null;
  const known = new Set([...(round.driver === null ? [] : [round.driver]), ...Object.keys(round.votes)]);
  for (const user of [...known].sort()) {
    if (present.includes(user)) continue;
    const step = leave(current, user, present);
    if (!step.ok) return step;
    current = step.round;
    revealed = step.revealed ?? revealed;
  }
  const settled = settle(current, present);
  if (!settled.ok) return settled;
  return to(settled.round, settled.revealed ?? revealed);
}
