/**
 * The pointing party's contract for one database engine, driven with the official `phoenix`
 * client: the round in progress survives a server restart (card, driver, votes, timer), and a
 * round whose members never came back still ends; the deck ("?" and "☕" never count, presets,
 * custom lists); the average and spread; the server-owned timer; backlog edit / delete / move;
 * the estimates summary (CSV, text); and two clicks at once deciding the same for everyone
 * (seeded random interleavings).
 */
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import type { Channel, Presence } from "phoenix";
import { DEFAULT_LEAVE_GRACE_MS, RESTART_GRACE_FACTOR } from "../../src/channels/party.js";
import { sharedTestApp, TestApp, until, type Client, type Engine } from "./app.js";
import { prng } from "./prng.js";

const EVENTS = ["new_card", "winner", "party_over", "driver", "revote", "timer", "deck", "backlog"];

interface Member {
  client: Client;
  channel: Channel;
  presence: Presence;
  reply: Record<string, unknown>;
}

/** Registers the party tests for `engine`. */
export function partyContract(engine: Engine): void {
  const shared = sharedTestApp(engine);
  let users = 0;
  const people = async (app: TestApp, n: number): Promise<Array<{ token: string; name: string }>> => {
    const out: Array<{ token: string; name: string }> = [];
    for (let i = 0; i < n; i++) {
      const name = `pp_${engine.slice(0, 2)}_${++users}`;
      out.push({ token: (await app.signUp(name)).token, name });
    }
    return out;
  };
  const tokensOf = async (app: TestApp, n: number): Promise<string[]> => (await people(app, n)).map((p) => p.token);
  const enter = async (app: TestApp, token: string, party: string): Promise<Member> => {
    const client = shared.client(app, token);
    const { channel, reply, presence } = await client.join(`party:${party}`, {}, EVENTS);
    assert.equal(reply.status, "ok", JSON.stringify(reply.response));
    return { client, channel, presence, reply: reply.response };
  };
  const metas = (m: Member): unknown[] => m.presence.list((_k, p) => p.metas[0]!.points);
  const call = async (m: Member, event: string, payload: object = {}): Promise<Record<string, unknown>> => {
    const reply = await m.client.call(m.channel, event, payload);
    return { status: reply.status, ...reply.response };
  };
  const setup = async (t: TestContext): Promise<TestApp | undefined> => shared.setup(t);

  test(`${engine}: party — a restart keeps the round (card, driver, votes, timer); the timer reveals after it; members who never return do not stall it`, { timeout: 40_000 }, async (t) => {
    const app = await setup(t);
    if (app === undefined) return;
    const [pa, pb, pc] = await people(app, 3);
    const [a, b, c] = [pa!.token, pb!.token, pc!.token];
    const party = `restart_${engine}`;
    let A = await enter(app, a!, party);
    let B = await enter(app, b!, party);
    const C = await enter(app, c!, party);
    await until(() => A.presence.list().length === 3 || undefined, 3000, "three in the party");
    assert.equal((await call(A, "start")).status, "ok");
    const dealt = await B.client.next(`party:${party}`, "new_card");
    assert.equal((await call(A, "vote", { points: 5 })).status, "ok");
    assert.equal((await call(C, "vote", { points: "?" })).status, "ok");
    assert.equal((await call(B, "timer", { seconds: 30 })).reason, "not_driver");
    assert.equal((await call(A, "timer", { seconds: 2 })).reason, "invalid_payload", "at least 5 s");
    assert.equal((await call(A, "timer", { seconds: 6 })).status, "ok");
    const timer = await C.client.next(`party:${party}`, "timer");
    const deadline = timer.deadline as number;
    assert.ok(Math.abs(deadline - Date.now() - 6000) < 1500, "the deadline is the server's, 6 s ahead");
    // C (who voted "?") leaves just before the server goes down: its leave grace never ran in the old process.
    for (const m of [A, B, C]) m.client.close();
    await app.stop();
    await app.start();
    A = await enter(app, a!, party);
    B = await enter(app, b!, party);
    const reply = A.reply as { card: { id: number; position: number }; driver: string; outcome: unknown; deadline: number; deck: { name: string } };
    assert.deepEqual([reply.card.id, reply.card.position, reply.driver, reply.outcome, reply.deadline, reply.deck.name],
      [(dealt.card as { id: number }).id, 1, pa!.name, null, deadline, "standard"], "the round is back as it was");
    await until(() => (metas(B).length === 2 && metas(B).includes(5) && metas(B).includes(null)) || undefined, 3000, "A's vote is back in presence");
    assert.equal(A.client.events.filter((e) => e.event === "winner").length, 0, "C has not voted and is gone, but the grace has not passed");
    // The deadline passes (after the restart): the server reveals the votes cast ("?" never counts).
    const winner = await B.client.next(`party:${party}`, "winner", () => true, 9000);
    assert.ok(Date.now() >= deadline - 50, "not before the deadline");
    assert.deepEqual(winner, { points: 5, stats: { average: 5, min: 5, max: 5, count: 1 } });
    assert.equal(B.client.events.filter((e) => e.event === "winner").length, 1, "one reveal, though two nodes' worth of timers existed");

    // A second round, then a restart in which the driver never comes back: the role passes, the tally comes.
    assert.equal((await call(A, "next_card")).status, "ok");
    await B.client.next(`party:${party}`, "new_card", (e) => (e.card as { position: number }).position === 2);
    assert.equal((await call(B, "vote", { points: 8 })).status, "ok");
    for (const m of [A, B]) m.client.close();
    await app.stop();
    await app.start();
    B = await enter(app, b!, party);
    const third = await enter(app, c!, party);
    assert.equal((B.reply.card as { position: number }).position, 2);
    assert.equal(B.reply.driver, pa!.name, "still A's until the grace passes");
    await until(() => metas(third).includes(8) || undefined, 3000, "B's vote back");
    const handed = await B.client.next(`party:${party}`, "driver", () => true, RESTART_GRACE_FACTOR * DEFAULT_LEAVE_GRACE_MS + 3000);
    assert.equal(handed.driver, pb!.name, "A never came back: the role passes to the first present user by name");
    assert.equal((await call(third, "vote", { points: 8 })).status, "ok");
    assert.deepEqual(await B.client.next(`party:${party}`, "winner"), { points: 8, stats: { average: 8, min: 8, max: 8, count: 2 } });
  });

  test(`${engine}: party — decks: presets, custom lists, ? and ☕ never count; refused decks and votes`, async (t) => {
    const app = await setup(t);
    if (app === undefined) return;
    const [a, b] = await tokensOf(app, 2);
    const party = `deck_${engine}`;
    const A = await enter(app, a!, party);
    const B = await enter(app, b!, party);
    await until(() => A.presence.list().length === 2 || undefined, 3000, "both in");
    assert.equal((await call(A, "start")).status, "ok");
    await B.client.next(`party:${party}`, "new_card");
    assert.equal((await call(B, "deck", { preset: "tshirt" })).reason, "not_driver");
    assert.equal((await call(A, "deck", { preset: "poker" })).reason, "invalid_payload");
    const bad = await call(A, "deck", { custom: ["1", "1"] });
    assert.deepEqual([bad.reason, bad.message], ["invalid_deck", "the card 1 is in the deck twice"]);
    assert.equal((await call(A, "vote", { points: 3 })).status, "ok");
    assert.equal((await call(A, "deck", { preset: "tshirt" })).status, "ok");
    const deck = await B.client.next(`party:${party}`, "deck");
    assert.deepEqual(deck, { deck: { name: "tshirt", values: ["XS", "S", "M", "L", "XL", "?", "☕"] }, cleared: true });
    await until(() => metas(B).every((v) => v === null) || undefined, 3000, "the vote on the old deck is cleared");
    assert.equal((await call(B, "vote", { points: 3 })).reason, "not_in_deck");
    assert.equal((await call(A, "vote", { points: "☕" })).status, "ok");
    assert.equal((await call(B, "vote", { points: "L" })).status, "ok");
    assert.deepEqual(await A.client.next(`party:${party}`, "winner"), { points: "L", stats: null }, "☕ does not count; sizes have no average");
    const cards = (await app.api("GET", `/api/parties/${party}/cards`, undefined, a)).body.cards as Array<{ estimate: unknown }>;
    assert.equal(cards[0]!.estimate, "L", "a size is stored as the estimate");
    assert.equal((await call(A, "next_card")).status, "ok");
    assert.equal((await call(A, "deck", { custom: ["0.5", "1", "2", "big"] })).status, "ok");
    assert.deepEqual((await A.client.next(`party:${party}`, "deck", (d) => (d.deck as { name: string }).name === "custom")).deck,
      { name: "custom", values: [0.5, 1, 2, "big", "?", "☕"] });
    assert.equal((await call(A, "vote", { points: 0.5 })).status, "ok");
    assert.equal((await call(B, "vote", { points: 2 })).status, "ok");
    const tie = await A.client.next(`party:${party}`, "winner", (w) => "tie" in w);
    assert.deepEqual(tie, { tie: [0.5, 2], stats: { average: 1.25, min: 0.5, max: 2, count: 2 } }, "the average and spread beside a tie too");
    const C = await enter(app, a!, party);
    assert.equal((C.reply.deck as { name: string }).name, "custom", "a late join gets the deck");
  });

  test(`${engine}: party — the driver reveals early; the backlog: edit, delete (not the card on the table), move; summary CSV and text`, async (t) => {
    const app = await setup(t);
    if (app === undefined) return;
    const [a, b] = await tokensOf(app, 2);
    const party = `backlog_${engine}`;
    const A = await enter(app, a!, party);
    const B = await enter(app, b!, party);
    await until(() => A.presence.list().length === 2 || undefined, 3000, "both in");
    const added = await app.api("POST", `/api/parties/${party}/cards`, { title: "=HYPERLINK(\"x\")", description: "a, \"quoted\"\nline" }, a);
    assert.equal(added.status, 201);
    assert.equal(added.body.position, 4);
    assert.equal(((await B.client.next(`party:${party}`, "backlog")).cards as unknown[]).length, 4, "an added card reaches everyone");
    const cards = (await app.api("GET", `/api/parties/${party}/cards`, undefined, a)).body.cards as Array<{ id: number; title: string }>;
    const [one, two, three, four] = cards.map((c) => c.id);
    assert.equal((await call(A, "start")).status, "ok");
    assert.equal((await call(B, "delete_card", { id: one })).reason, "on_table", "the card on the table stays");
    assert.equal((await call(B, "edit_card", { id: one, title: "Sign-up form, v2", description: "" })).status, "ok");
    const edited = await A.client.next(`party:${party}`, "backlog", (e) => (e.cards as Array<{ title: string }>)[0]!.title === "Sign-up form, v2");
    assert.ok(edited);
    assert.equal((await call(B, "edit_card", { id: one, title: "a\u0000b", description: "" })).reason, "invalid_payload", "NUL refused");
    assert.equal((await call(B, "edit_card", { id: 999_999, title: "x", description: "" })).reason, "not_found");
    assert.equal((await call(B, "delete_card", { id: two })).status, "ok");
    assert.equal((await call(B, "move_card", { id: four, to: 1 })).status, "ok");
    const moved = await A.client.next(`party:${party}`, "backlog", (e) => (e.cards as unknown[]).length === 3 && (e.cards as Array<{ id: number }>)[0]!.id === four);
    assert.deepEqual((moved.cards as Array<{ id: number; position: number }>).map((c) => [c.id, c.position]), [[four, 1], [one, 2], [three, 3]]);
    const rejoined = await enter(app, b!, party);
    assert.equal((rejoined.reply.card as { position: number }).position, 2, "the card on the table has its new place");
    // The driver reveals without waiting for B.
    assert.equal((await call(B, "reveal")).reason, "not_driver");
    assert.equal((await call(A, "vote", { points: 3 })).status, "ok");
    assert.equal((await call(A, "reveal")).status, "ok");
    assert.deepEqual(await B.client.next(`party:${party}`, "winner"), { points: 3, stats: { average: 3, min: 3, max: 3, count: 1 } });
    assert.equal((await call(A, "reveal")).reason, "revealed");
    // next_card follows the backlog's order: after place 2 comes place 3 (card three), not card four at place 1.
    assert.equal((await call(A, "next_card")).status, "ok");
    assert.equal(((await B.client.next(`party:${party}`, "new_card", (e) => (e.card as { id: number }).id !== one)).card as { id: number }).id, three);
    const csv = await fetch(`${app.base}/api/parties/${party}/estimates.csv`, { headers: { authorization: `Bearer ${a}` } });
    assert.equal(csv.status, 200);
    assert.match(csv.headers.get("content-type") ?? "", /^text\/csv/);
    assert.match(csv.headers.get("content-disposition") ?? "", /attachment; filename="estimates-backlog_/);
    assert.equal(await csv.text(), [
      "position,title,description,estimate,average,min,max",
      `1,"'=HYPERLINK(""x"")","a, ""quoted""\nline",,,,`,
      "2,\"Sign-up form, v2\",,3,3,3,3",
      "3,Export estimates,Download the party's estimates as CSV.,,,,", "",
    ].join("\r\n"));
    const text = await (await fetch(`${app.base}/api/parties/${party}/estimates.txt`, { headers: { authorization: `Bearer ${a}` } })).text();
    assert.match(text, /^2\. Sign-up form, v2 — 3 \(average 3, 3\)$/m);
    assert.match(text, /^Total: 3 points$/m);
    assert.equal((await fetch(`${app.base}/api/parties/${party}/estimates.csv`)).status, 401);
  });

  test(`${engine}: party — two clicks at once end the same for everyone (seeded interleavings of last votes, takes, moves)`, { timeout: 40_000 }, async (t) => {
    const app = await setup(t);
    if (app === undefined) return;
    const crowd = await people(app, 3);
    const tokens = crowd.map((p) => p.token);
    const names = crowd.map((p) => p.name);
    for (const seed of [1, 2, 3, 4, 5, 6]) {
      const random = prng(seed);
      const party = `race_${engine}_${seed}`;
      const members: Member[] = [];
      for (const token of tokens) members.push(await enter(app, token, party));
      await until(() => members.every((m) => m.presence.list().length === 3) || undefined, 3000, "all three in");
      // Two take the free role at once: one drives, the other is refused, and everyone hears the same driver.
      const order = random() < 0.5 ? [0, 1] : [1, 0];
      const takes = await Promise.all(order.map(async (i) => {
        await new Promise((resolve) => setTimeout(resolve, Math.floor(random() * 3)));
        return { i, reply: await call(members[i]!, "take") };
      }));
      const won = takes.filter((x) => x.reply.status === "ok");
      assert.equal(won.length, 1, `seed ${seed}: one take wins`);
      assert.equal(takes.find((x) => x.reply.status !== "ok")!.reply.reason, "driver_present");
      const driver = names[won[0]!.i]!;
      for (const m of members) assert.equal((await m.client.next(`party:${party}`, "driver")).driver, driver, `seed ${seed}`);
      const dealer = members[won[0]!.i]!;
      assert.equal((await call(members[won[0]!.i === 0 ? 1 : 0]!, "start")).reason, "not_driver");
      assert.equal((await call(dealer, "start")).status, "ok");
      await until(() => members.every((m) => m.client.events.some((e) => e.topic === `party:${party}` && e.event === "new_card")) || undefined, 3000, "dealt");
      // All three vote at once, each after a seeded delay of 0–4 ms: exactly one winner, the same for all.
      const points = [[3, 5, 8][Math.floor(random() * 3)]!, 5, 5];
      await Promise.all(members.map(async (m, i) => {
        await new Promise((resolve) => setTimeout(resolve, Math.floor(random() * 5)));
        assert.equal((await call(m, "vote", { points: points[i] })).status, "ok", `seed ${seed}`);
      }));
      for (const m of members) await m.client.next(`party:${party}`, "winner");
      await new Promise((resolve) => setTimeout(resolve, 100));
      const winners = members.map((m) => m.client.events.filter((e) => e.topic === `party:${party}` && e.event === "winner"));
      for (const w of winners) assert.deepEqual(w.map((e) => e.payload.points), [5], `seed ${seed}: one winner for everyone`);
      const rest = members.slice(1);
      // Two moves at once: both applied one after the other, the backlog the same for both.
      const cards = (await app.api("GET", `/api/parties/${party}/cards`, undefined, tokens[1])).body.cards as Array<{ id: number }>;
      const [x, y] = random() < 0.5 ? [cards[0]!.id, cards[2]!.id] : [cards[2]!.id, cards[1]!.id];
      await Promise.all([call(rest[0]!, "move_card", { id: x, to: 3 }), call(rest[1]!, "move_card", { id: y, to: 1 })]);
      await new Promise((resolve) => setTimeout(resolve, 100));
      const final = (await app.api("GET", `/api/parties/${party}/cards`, undefined, tokens[1])).body.cards as Array<{ id: number; position: number }>;
      assert.deepEqual(final.map((c) => c.position), [1, 2, 3], `seed ${seed}: places stay 1..n`);
      assert.equal(new Set(final.map((c) => c.id)).size, 3);
      for (const m of rest) {
        const last = m.client.events.filter((e) => e.topic === `party:${party}` && e.event === "backlog").at(-1)!;
        assert.deepEqual((last.payload.cards as Array<{ id: number }>).map((c) => c.id), final.map((c) => c.id), `seed ${seed}: the last backlog everyone got is the stored one`);
      }
      for (const m of rest) m.client.close();
    }
  });
}
