/**
 * The rules of one pointing-party round, pure: who drives, who may deal, vote, reveal and
 * re-vote, and when the votes are in ("once all present users have voted", re-checked whenever
 * someone votes or leaves). The channel keeps a `Round` per party and applies these steps; a
 * step returns the next round (and what to announce) or a refusal, never throws.
 */

/** A card as the table shows it: its place in the backlog (1-based), not its database id. */
export interface TableCard {
  id: number;
  title: string;
  description: string;
  position: number;
}

/** How a round came out: the points with most votes, or the tied ones. */
export type Outcome = { points: number } | { tie: number[] };

/** The round in progress of one party. */
export interface Round {
  /** The card on the table, or null before the first deal and after the party is over. */
  readonly card: TableCard | null;
  /** Who deals, reveals and re-votes; null when the role is free (anyone may take it). */
  readonly driver: string | null;
  /** The votes cast on the card on the table, by username. */
  readonly votes: Readonly<Record<string, number>>;
  /** Set once every present user has voted; a winner is final until a re-vote. */
  readonly outcome: Outcome | null;
}

/** Why a step was refused (the reply's `reason`). */
export type Refusal = "not_driver" | "no_card" | "revealed" | "driver_present";

/** A step's result: the next round and whether it revealed an outcome, or a refusal. */
export type Step =
  | { ok: true; round: Round; revealed: Outcome | null }
  | { ok: false; reason: Refusal };

/** No card on the table, nobody driving. */
export const EMPTY_ROUND: Round = { card: null, driver: null, votes: {}, outcome: null };

/** The outcome of a set of votes: the points with most votes, or the tied ones (ascending). */
export function tally(votes: readonly number[]): Outcome {
  const counts = new Map<number, number>();
  for (const points of votes) counts.set(points, (counts.get(points) ?? 0) + 1);
  const best = Math.max(...counts.values());
  const top = [...counts].filter(([, n]) => n === best).map(([points]) => points).sort((a, b) => a - b);
  return top.length === 1 ? { points: top[0]! } : { tie: top };
}

/** True when `user` may drive: they drive, or nobody does. */
export function mayDrive(round: Round, user: string): boolean {
  return round.driver === null || round.driver === user;
}

/** True once the card on the table has a winner (votes are then refused until a re-vote). */
export function isFinal(round: Round): boolean {
  return round.outcome !== null && "points" in round.outcome;
}

/** Reveals the outcome when every present user has voted (only their votes count). */
export function settle(round: Round, present: readonly string[]): Step {
  if (round.card === null || isFinal(round) || present.length === 0) return { ok: true, round, revealed: null };
  const votes = present.map((user) => round.votes[user]);
  if (!votes.every((v): v is number => v !== undefined)) return { ok: true, round, revealed: null };
  const outcome = tally(votes);
  return { ok: true, round: { ...round, outcome }, revealed: outcome };
}

/** `user` deals `card` (the first or the next one; null ends the party): driver only. */
export function deal(round: Round, user: string, card: TableCard | null): Step {
  if (!mayDrive(round, user)) return { ok: false, reason: "not_driver" };
  if (card === null) return { ok: true, round: EMPTY_ROUND, revealed: null };
  return { ok: true, round: { card, driver: user, votes: {}, outcome: null }, revealed: null };
}

/** `user` votes `points` on the card on the table; refused once the card has a winner. */
export function vote(round: Round, user: string, points: number, present: readonly string[]): Step {
  if (round.card === null) return { ok: false, reason: "no_card" };
  if (isFinal(round)) return { ok: false, reason: "revealed" };
  return settle({ ...round, votes: { ...round.votes, [user]: points }, outcome: null }, present);
}

/** The driver reopens the card on the table for voting (every vote cleared). */
export function revote(round: Round, user: string): Step {
  if (round.card === null) return { ok: false, reason: "no_card" };
  if (round.driver !== user) return { ok: false, reason: "not_driver" };
  return { ok: true, round: { ...round, votes: {}, outcome: null }, revealed: null };
}

/** `user` takes the free driver's role. */
export function take(round: Round, user: string): Step {
  if (round.driver !== null && round.driver !== user) return { ok: false, reason: "driver_present" };
  return { ok: true, round: { ...round, driver: user }, revealed: null };
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
