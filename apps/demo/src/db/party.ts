/**
 * The pointing party in the database: each party's row (`parties`) holds its round in progress
 * (the card on the table, the driver, the votes, the outcome, the timer's deadline) and its
 * deck, so a restarted server — or another node — finds the round as it was; `cards` holds the
 * backlog in its order (`rank`) with each card's estimate and the average and spread it came
 * with. Every change to a round runs in `withRound`, a transaction that first locks the party's
 * row, so two clicks at once are decided one after the other on SQLite and PostgreSQL alike.
 */
import type { Db } from "./db.js";
import { deckOf, type Outcome, type Point, type Stats } from "../party/deck.js";
import { EMPTY_ROUND, type Round, type TableCard } from "../party/round.js";

type Row = Record<string, unknown>;

/** A card of a party's backlog: its place (1-based), and its estimate once a round found a winner. */
export interface BacklogCard extends TableCard {
  estimate: Point | null;
  /** The average and spread of the numeric votes that gave the estimate. */
  stats: Stats | null;
}

/** Why a backlog change was refused. */
export type BacklogRefusal = "not_found" | "on_table";

const num = (value: unknown): number => Number(value);

/** Parses a stored JSON column, or `fallback` when it is missing or unreadable. */
function parsed<T>(value: unknown, fallback: T): T {
  if (typeof value !== "string") return fallback;
  try {
    return JSON.parse(value) as T;
  } catch {
    return fallback;
  }
}

function pointOrNull(value: unknown): Point | null {
  const v = parsed<unknown>(value, null);
  return typeof v === "number" || typeof v === "string" ? v : null;
}

/** The pointing-party part of the apps' data. */
export class PartyStore {
  constructor(private readonly db: Db) {}

  /** A party's backlog in order. */
  async cards(party: string, db: Db = this.db): Promise<BacklogCard[]> {
    const rows = await db.query<Row>(
      "SELECT id, title, description, estimate_value, estimate_stats FROM cards WHERE party = ? ORDER BY rank, id", [party]);
    return rows.map((row, i) => ({
      id: num(row.id), title: String(row.title), description: String(row.description), position: i + 1,
      estimate: pointOrNull(row.estimate_value), stats: parsed<Stats | null>(row.estimate_stats, null),
    }));
  }

  /**
   * A party's backlog, creating `samples` first when the party is new, in one transaction: the
   * party's row is claimed first, so concurrent first requests create the samples once.
   */
  async ensure(party: string, samples: ReadonlyArray<{ title: string; description: string }>): Promise<BacklogCard[]> {
    const known = await this.cards(party);
    if (known.length > 0) return known;
    return this.db.transaction(async (tx) => {
      const claimed = await tx.query<Row>("INSERT INTO parties (name, inserted_at) VALUES (?, ?) ON CONFLICT (name) DO NOTHING RETURNING name",
        [party, Date.now()]);
      if (claimed.length === 1 && (await this.cards(party, tx)).length === 0) {
        for (const card of samples) await this.addCard(party, card.title, card.description, tx);
      }
      return this.cards(party, tx);
    });
  }

  /** Adds a card at the end of a party's backlog; returns its id. */
  async addCard(party: string, title: string, description: string, db: Db = this.db): Promise<number> {
    const [row] = await db.query<Row>(
      `INSERT INTO cards (party, title, description, inserted_at, rank)
       VALUES (?, ?, ?, ?, (SELECT COALESCE(MAX(rank), 0) + 1 FROM cards WHERE party = ?)) RETURNING id`,
      [party, title, description, Date.now(), party]);
    return num(row!.id);
  }

  /**
   * Runs `fn` on the party's round with the party's row locked until the transaction ends
   * (PostgreSQL: `FOR UPDATE`; SQLite transactions are already serial). `fn` saves what it
   * changes with `save`.
   */
  async withRound<T>(party: string, fn: (tx: Db, round: Round) => Promise<T>): Promise<T> {
    return this.db.transaction(async (tx) => {
      await tx.query("INSERT INTO parties (name, inserted_at) VALUES (?, ?) ON CONFLICT (name) DO NOTHING", [party, Date.now()]);
      const round = await this.round(party, tx, true);
      return fn(tx, round);
    });
  }

  /** A party's round as stored (the card on the table with its place in the backlog now). */
  async round(party: string, db: Db = this.db, lock = false): Promise<Round> {
    const [row] = await db.query<Row>(
      `SELECT card_id, driver, votes, outcome, deadline, deck FROM parties WHERE name = ?${lock && db.kind === "postgres" ? " FOR UPDATE" : ""}`, [party]);
    if (row === undefined) return EMPTY_ROUND;
    let card: TableCard | null = null;
    if (row.card_id !== null && row.card_id !== undefined) {
      const found = (await this.cards(party, db)).find((c) => c.id === num(row.card_id));
      if (found !== undefined) card = { id: found.id, title: found.title, description: found.description, position: found.position };
    }
    return {
      card,
      driver: typeof row.driver === "string" ? row.driver : null,
      votes: card === null ? {} : parsed<Record<string, Point>>(row.votes, {}),
      outcome: card === null ? null : parsed<Outcome | null>(row.outcome, null),
      deadline: card === null || row.deadline === null || row.deadline === undefined ? null : num(row.deadline),
      deck: deckOf(parsed<unknown>(row.deck, null)),
    };
  }

  /** Stores a party's round (inside `withRound`). */
  async save(tx: Db, party: string, round: Round): Promise<void> {
    await tx.query("UPDATE parties SET card_id = ?, driver = ?, votes = ?, outcome = ?, deadline = ?, deck = ? WHERE name = ?", [
      round.card?.id ?? null, round.driver, JSON.stringify(round.votes),
      round.outcome === null ? null : JSON.stringify(round.outcome), round.deadline, JSON.stringify(round.deck), party,
    ]);
  }

  /** Records a card's estimate and the average and spread of its votes. */
  async setEstimate(tx: Db, cardId: number, points: Point, stats: Stats | null): Promise<void> {
    await tx.query("UPDATE cards SET estimate_value = ?, estimate_stats = ? WHERE id = ?",
      [JSON.stringify(points), stats === null ? null : JSON.stringify(stats), cardId]);
  }

  /** Changes a card's title and description. */
  async editCard(tx: Db, party: string, id: number, title: string, description: string): Promise<BacklogRefusal | null> {
    const found = await tx.query<Row>("UPDATE cards SET title = ?, description = ? WHERE id = ? AND party = ? RETURNING id", [title, description, id, party]);
    return found.length === 0 ? "not_found" : null;
  }

  /** Deletes a card (not the one on the table: `round` is the locked round). */
  async deleteCard(tx: Db, party: string, round: Round, id: number): Promise<BacklogRefusal | null> {
    if (round.card?.id === id) return "on_table";
    const found = await tx.query<Row>("DELETE FROM cards WHERE id = ? AND party = ? RETURNING id", [id, party]);
    return found.length === 0 ? "not_found" : null;
  }

  /** Moves a card to place `to` (1-based, clamped to the backlog) and renumbers the backlog. */
  async moveCard(tx: Db, party: string, id: number, to: number): Promise<BacklogRefusal | null> {
    const ids = (await this.cards(party, tx)).map((c) => c.id);
    const from = ids.indexOf(id);
    if (from === -1) return "not_found";
    ids.splice(from, 1);
    ids.splice(Math.max(0, Math.min(ids.length, to - 1)), 0, id);
    for (const [i, cardId] of ids.entries()) await tx.query("UPDATE cards SET rank = ? WHERE id = ?", [i + 1, cardId]);
    return null;
  }
}
