/** The pointing party's round rules (`src/party/round.ts`) and deck (`src/party/deck.ts`), as tables of steps and what they lead to. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { customDeck, DEFAULT_DECK, preset, stats, tally, type Outcome, type Point } from "../src/party/deck.js";
import {
  deal, EMPTY_ROUND, expire, leave, reveal, revote, setDeck, startTimer, stopTimer, sweep, take, vote, type Round, type Step, type TableCard,
} from "../src/party/round.js";

const card = (position: number): TableCard => ({ id: 100 + position, title: `Card ${position}`, description: "", position });
const round = (over: Partial<Round>): Round => ({ ...EMPTY_ROUND, card: card(1), driver: "a", ...over });
const next = (step: Step): Round => {
  assert.ok(step.ok, `refused: ${step.ok ? "" : step.reason}`);
  return step.round;
};
const won = (points: Point, s: Outcome["stats"] = null): Outcome => ({ points, stats: s });

test("tally: the card with most votes, or the tied ones in deck order; ? and ☕ never count", () => {
  const tshirt = preset("tshirt");
  const rows: Array<[Point[], Outcome, typeof DEFAULT_DECK?]> = [
    [[5], won(5, { average: 5, min: 5, max: 5, count: 1 })],
    [[5, 5, 3], won(5, { average: 4.33, min: 3, max: 5, count: 3 })],
    [[8, 3], { tie: [3, 8], stats: { average: 5.5, min: 3, max: 8, count: 2 } }],
    [[13, 1, 13, 1, 2], { tie: [1, 13], stats: { average: 6, min: 1, max: 13, count: 5 } }],
    [["?", "?", 3], won(3, { average: 3, min: 3, max: 3, count: 1 }), undefined],
    [["☕", 8, "?", 8, 2], won(8, { average: 6, min: 2, max: 8, count: 3 })],
    [["?", "☕"], { tie: [], stats: null }],
    [["XL", "S", "?", "S", "XL"], { tie: ["S", "XL"], stats: null }, tshirt],
    [["M", "M", "L"], won("M"), tshirt],
  ];
  for (const [votes, outcome, deck] of rows) assert.deepEqual(tally(votes, deck), outcome, JSON.stringify(votes));
  assert.equal(stats(["?", "M"]), null, "no numeric vote, no average");
});

test("decks: presets end with ? and ☕; a custom deck is checked", () => {
  assert.deepEqual(DEFAULT_DECK.values, [1, 2, 3, 5, 8, 13, "?", "☕"]);
  assert.deepEqual(preset("tshirt").values, ["XS", "S", "M", "L", "XL", "?", "☕"]);
  const rows: Array<[unknown[], Point[] | string]> = [
    [["1", "2", "0.5", "big"], [1, 2, 0.5, "big", "?", "☕"]],
    [[" 3 ", "?", "☕", 8], [3, 8, "?", "☕"]],
    [[], "at least one card"],
    [["?"], "at least one card"],
    [["1", "1.0"], "twice"],
    [["2", "2"], "twice"],
    [["toolong"], "1 to 6 characters"],
    [["a\u0000"], "control characters"],
    [[{}], "label or a number"],
    [Array.from({ length: 21 }, (_, i) => String(i)), "at most 20"],
  ];
  for (const [labels, expected] of rows) {
    const result = customDeck(labels);
    if (typeof expected === "string") assert.ok(!result.ok && result.error.includes(expected), `${JSON.stringify(labels)}: ${result.ok ? "accepted" : result.error}`);
    else assert.deepEqual(result.ok && result.deck.values, expected, JSON.stringify(labels));
  }
});

test("who may start, deal, vote, reveal, re-vote, time and take", () => {
  const rows: Array<[string, Step, Step["ok"], string?]> = [
    ["anyone starts while nobody drives", deal(EMPTY_ROUND, "b", card(1)), true],
    ["a non-driver's start is refused", deal(round({ votes: { a: 5 } }), "b", card(1)), false, "not_driver"],
    ["the driver deals", deal(round({}), "a", card(2)), true],
    ["a non-driver's re-vote is refused", revote(round({ outcome: won(5) }), "b"), false, "not_driver"],
    ["no re-vote without a card", revote(EMPTY_ROUND, "a"), false, "no_card"],
    ["a taken role cannot be taken", take(round({}), "b"), false, "driver_present"],
    ["a free role can be taken", take(round({ driver: null }), "b"), true],
    ["no vote without a card", vote(EMPTY_ROUND, "a", 5, ["a"]), false, "no_card"],
    ["a vote after a winner is refused", vote(round({ votes: { a: 5 }, outcome: won(5) }), "b", 3, ["a", "b"]), false, "revealed"],
    ["a vote after a tie is taken", vote(round({ votes: { a: 3, b: 8 }, outcome: { tie: [3, 8], stats: null } }), "b", 3, ["a", "b"]), true],
    ["a vote off the deck is refused", vote(round({}), "a", 4, ["a"]), false, "not_in_deck"],
    ["? is in every deck", vote(round({ deck: preset("tshirt") }), "a", "?", ["a", "b"]), true],
    ["a number is not a T-shirt size", vote(round({ deck: preset("tshirt") }), "a", 5, ["a"]), false, "not_in_deck"],
    ["a non-driver's reveal is refused", reveal(round({}), "b", ["a", "b"]), false, "not_driver"],
    ["no reveal of a final card", reveal(round({ outcome: won(5) }), "a", ["a"]), false, "revealed"],
    ["a non-driver's timer is refused", startTimer(round({}), "b", 30, 0), false, "not_driver"],
    ["no timer without a card", startTimer(EMPTY_ROUND, "a", 30, 0), false, "no_card"],
    ["no timer on a final card", startTimer(round({ outcome: won(5) }), "a", 30, 0), false, "revealed"],
    ["a non-driver cannot stop the timer", stopTimer(round({ deadline: 5 }), "b"), false, "not_driver"],
    ["a non-driver cannot change the deck", setDeck(round({}), "b", preset("tshirt")), false, "not_driver"],
    ["anyone may change the deck while nobody drives", setDeck(round({ driver: null }), "b", preset("tshirt")), true],
  ];
  for (const [name, step, allowed, reason] of rows) {
    assert.equal(step.ok, allowed, name);
    if (!step.ok) assert.equal(step.reason, reason, name);
  }
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
  assert.deepEqual(step.ok && step.revealed, won(5, { average: 5, min: 5, max: 5, count: 2 }), "c left: a and b are everyone");
  r = next(step);
  assert.equal(vote(r, "b", 3, ["a", "b"]).ok, false, "the winner is final");
  step = revote(r, "a");
  r = next(step);
  assert.deepEqual([r.votes, r.outcome, step.ok && step.cleared], [{}, null, true], "a re-vote clears the votes");
});

test("the timer: the deadline reveals the present users' votes; nothing before it; a deal or re-vote stops it", () => {
  let r = next(startTimer(round({ votes: { a: 3, b: 5, gone: 13 } }), "a", 30, 1000));
  assert.equal(r.deadline, 31_000);
  assert.deepEqual(next(expire(r, ["a", "b", "c"], 30_999)), r, "before the deadline nothing changes");
  const step = expire(r, ["a", "b", "c"], 31_000);
  assert.deepEqual(step.ok && step.revealed, { tie: [3, 5], stats: { average: 4, min: 3, max: 5, count: 2 } }, "c never voted; gone is not here");
  assert.equal(next(step).deadline, null);
  assert.equal(next(deal(r, "a", card(2))).deadline, null);
  assert.equal(next(revote(r, "a")).deadline, null);
  assert.equal(next(stopTimer(r, "a")).deadline, null);
  r = next(expire(round({ deadline: 10 }), ["a"], 20));
  assert.deepEqual(r.outcome, { tie: [], stats: null }, "nobody voted: no estimate");
  const early = reveal(round({ votes: { a: "?", b: 8 } }), "a", ["a", "b", "c"]);
  assert.deepEqual(early.ok && early.revealed, won(8, { average: 8, min: 8, max: 8, count: 1 }), "the driver reveals without waiting for c");
});

test("a new deck clears the votes on an open card, and keeps a final one", () => {
  const open = setDeck(round({ votes: { a: 5 } }), "a", preset("tshirt"));
  assert.ok(open.ok && open.cleared);
  assert.deepEqual(next(open).votes, {});
  const final = setDeck(round({ votes: { a: 5 }, outcome: won(5) }), "a", preset("tshirt"));
  assert.ok(final.ok && !final.cleared);
  assert.deepEqual([next(final).votes, next(final).outcome], [{ a: 5 }, won(5)]);
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

test("sweep (after a restart): whoever the round knows and is not back leaves; the tally is re-checked", () => {
  const rows: Array<[string, Round, string[], Partial<Round>]> = [
    ["the driver never came back", round({ votes: { b: 3 } }), ["b", "c"], { driver: "b", outcome: null }],
    ["a voter never came back; the others had voted", round({ votes: { a: 5, b: 5, c: 8 } }), ["a", "b"],
      { votes: { a: 5, b: 5 }, outcome: won(5, { average: 5, min: 5, max: 5, count: 2 }) }],
    ["a silent member never came back", round({ votes: { a: 2, b: 2 } }), ["a", "b"], { outcome: won(2, { average: 2, min: 2, max: 2, count: 2 }) }],
    ["everyone came back", round({ votes: { a: 2 } }), ["a", "b"], { votes: { a: 2 }, driver: "a", outcome: null }],
  ];
  for (const [name, before, present, expected] of rows) {
    const after = next(sweep(before, present));
    for (const [key, value] of Object.entries(expected)) assert.deepEqual(after[key as keyof Round], value, `${name}: ${key}`);
  }
});
