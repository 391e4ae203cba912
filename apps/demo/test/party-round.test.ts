/** The pointing party's round rules (`src/party/round.ts`), as tables of steps and what they lead to. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { deal, EMPTY_ROUND, leave, revote, take, tally, vote, type Round, type Step, type TableCard } from "../src/party/round.js";

const card = (position: number): TableCard => ({ id: 100 + position, title: `Card ${position}`, description: "", position });
const round = (over: Partial<Round>): Round => ({ ...EMPTY_ROUND, card: card(1), driver: "a", ...over });
const next = (step: Step): Round => {
  assert.ok(step.ok, `refused: ${step.ok ? "" : step.reason}`);
  return step.round;
};

test("tally: the points with most votes, or the tied ones ascending", () => {
  const rows: Array<[number[], ReturnType<typeof tally>]> = [
    [[5], { points: 5 }],
    [[5, 5, 3], { points: 5 }],
    [[8, 3], { tie: [3, 8] }],
    [[13, 1, 13, 1, 2], { tie: [1, 13] }],
  ];
  for (const [votes, outcome] of rows) assert.deepEqual(tally(votes), outcome, JSON.stringify(votes));
});

test("who may start, deal, re-vote and take", () => {
  const rows: Array<[string, Step, Step["ok"], string?]> = [
    ["anyone starts while nobody drives", deal(EMPTY_ROUND, "b", card(1)), true],
    ["a non-driver's start is refused", deal(round({ votes: { a: 5 } }), "b", card(1)), false, "not_driver"],
    ["the driver deals", deal(round({}), "a", card(2)), true],
    ["a non-driver's re-vote is refused", revote(round({ outcome: { points: 5 } }), "b"), false, "not_driver"],
    ["no re-vote without a card", revote(EMPTY_ROUND, "a"), false, "no_card"],
    ["a taken role cannot be taken", take(round({}), "b"), false, "driver_present"],
    ["a free role can be taken", take(round({ driver: null }), "b"), true],
    ["no vote without a card", vote(EMPTY_ROUND, "a", 5, ["a"]), false, "no_card"],
    ["a vote after a winner is refused", vote(round({ votes: { a: 5 }, outcome: { points: 5 } }), "b", 3, ["a", "b"]), false, "revealed"],
    ["a vote after a tie is taken", vote(round({ votes: { a: 3, b: 8 }, outcome: { tie: [3, 8] } }), "b", 3, ["a", "b"]), true],
  ];
  for (const [name, step, allowed, reason] of rows) {
    assert.equal(step.ok, allowed, name);
    if (!step.ok) assert.equal(step.reason, reason, name);
  }
  const refused = deal(round({ votes: { a: 5 } }), "b", card(1));
  assert.ok(!refused.ok, "the refused start changes nothing (there is no next round to store)");
});

test("the tally comes once every present user has voted, re-checked on leave", () => {
  let r = next(deal(EMPTY_ROUND, "a", card(1)));
  let step = vote(r, "a", 5, ["a", "b", "c"]);
  assert.equal(step.ok && step.revealed, null);
  r = next(step);
  step = vote(r, "b", 5, ["a", "b", "c"]);
  assert.equal(step.ok && step.revealed, null, "c has not voted");
  r = next(step);
  step = leave(r, "c", ["a", "b"]);
  assert.deepEqual(step.ok && step.revealed, { points: 5 }, "c left: a and b are everyone");
  r = next(step);
  assert.equal(vote(r, "b", 3, ["a", "b"]).ok, false, "the winner is final");
  r = next(revote(r, "a"));
  assert.deepEqual([r.votes, r.outcome], [{}, null], "a re-vote clears the votes");
});

test("a leaver's vote no longer counts before the reveal; the driver's role passes on", () => {
  const r = round({ votes: { a: 5, c: 8 } });
  const gone = next(leave(r, "c", ["a", "b"]));
  assert.deepEqual(gone.votes, { a: 5 });
  const rows: Array<[Round, string, string[], string | null]> = [
    [round({}), "a", ["c", "b"], "b"],
    [round({}), "a", [], null],
    [round({}), "b", ["a"], "a"],
    [round({ driver: null }), "b", ["a"], null],
  ];
  for (const [before, who, present, driver] of rows) assert.equal(next(leave(before, who, present)).driver, driver, `${who} leaves ${JSON.stringify(present)}`);
  assert.equal(next(leave(round({}), "a", ["a", "b"])).driver, "b", "the leaver is not among the present");
});
