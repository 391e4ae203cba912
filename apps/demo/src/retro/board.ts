/**
 * The retro board's vocabulary and rules, pure: the stages a facilitator moves through, the
 * columns ideas go in, and what each stage allows. The channel asks these functions and the
 * store keeps the data; the page only shows what they decided.
 */

/** The stages of a retro, in order. */
export const STAGES = ["brainstorm", "vote", "discuss", "actions"] as const;

/** A stage of a retro. */
export type Stage = (typeof STAGES)[number];

/** The board's columns, in order, with their headings. */
export const COLUMNS = { went_well: "Went well", to_improve: "To improve", questions: "Questions" } as const;

/** A column of the board. */
export type Column = keyof typeof COLUMNS;

/** How many votes each person has per room, unless configured otherwise. */
export const DEFAULT_VOTE_BUDGET = 3;

/** An idea on the board, with its votes (total and per username). */
export interface Idea {
  id: number;
  column: Column;
  body: string;
  author: string;
  votes: number;
  voters: Record<string, number>;
}

/** An action item; `owner` is a username, or null while nobody owns it. */
export interface ActionItem {
  id: number;
  body: string;
  owner: string | null;
  author: string;
}

/** A board as a joining page gets it. */
export interface Board {
  stage: Stage;
  facilitator: string | null;
  vote_budget: number;
  ideas: Idea[];
  actions: ActionItem[];
}

/** Why the board refused something (the error reply's `reason`). */
export type Refusal =
  | "not_facilitator" | "facilitator_present" | "not_yours" | "not_found" | "stage_closed"
  | "no_votes_left" | "no_vote" | "invalid_stage" | "unknown_owner" | "not_present";

/** True when `stage` is a stage name. */
export function isStage(stage: string): stage is Stage {
  return (STAGES as readonly string[]).includes(stage);
}

/** A facilitator may move one stage forward or back. */
export function canMove(from: Stage, to: Stage): boolean {
  return Math.abs(STAGES.indexOf(from) - STAGES.indexOf(to)) === 1;
}

/** Ideas are added, edited and deleted while brainstorming. */
export function ideasOpen(stage: Stage): boolean {
  return stage === "brainstorm";
}

/** Votes are cast and taken back during the vote. */
export function votingOpen(stage: Stage): boolean {
  return stage === "vote";
}

/** Action items are written once the discussion starts. */
export function actionsOpen(stage: Stage): boolean {
  return stage === "discuss" || stage === "actions";
}

/** How many votes `user` has cast on the board. */
export function votesUsed(ideas: readonly Idea[], user: string): number {
  return ideas.reduce((sum, idea) => sum + (idea.voters[user] ?? 0), 0);
}
