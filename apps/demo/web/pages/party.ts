/**
 * The pointing party (`party:<room>`): who is here and who has voted — not what they voted —
 * until the reveal; the card on the table; the deck's vote buttons ("?" and "☕" included); the
 * driver's buttons (start, reveal, timer, re-vote, next card, deck); the round's timer, counting
 * down to the server's deadline; the result (a winner or a tie, with the average and spread of
 * the numeric votes) and, at the end, the party's estimates. The backlog (cards in order, with
 * edit / delete / move, and the estimates summary) lives beside it. The server decides every
 * rule and keeps the round across restarts; the page shows what it says.
 */
import { Presence } from "@cinder/client";
import { api, errorMessage } from "../lib/api.js";
import { replyError, TIMEOUT_MESSAGE } from "../lib/channels.js";
import { FormStatus, field, goForm, h, mainArea, notice, pageHead, plural, replace, type Child } from "../lib/dom.js";
import { pageString } from "../lib/globals.js";
import { backlogOf, backlogPanel, statsText, type BacklogCard, type Point, type Stats } from "../lib/party-backlog.js";
import { DEFAULT_DECK, deckLabel, deckOf, deckPicker, isPoint, roundTimer, type Deck } from "../lib/party-controls.js";
import { person, personRow, sortPeople, type Person } from "../lib/people.js";
import { startShell, type Shell } from "../lib/shell.js";

const TIMERS = [30, 60, 120] as const;

function statsOf(value: unknown): Stats | null {
  const s = value as Partial<Stats> | null;
  return typeof s === "object" && s !== null && typeof s.average === "number" && typeof s.min === "number" && typeof s.max === "number"
    ? { average: s.average, min: s.min, max: s.max, count: typeof s.count === "number" ? s.count : 0 } : null;
}

interface Card {
  id: number;
  title: string;
  description: string;
  /** The card's place in the backlog (1-based). */
  position: number;
}

type Outcome = { points: Point; stats: Stats | null } | { tie: Point[]; stats: Stats | null };

interface Estimate {
  card: Card;
  points: Point;
  stats: Stats | null;
}

/** An outcome from the server, or null. */
function outcomeOf(value: unknown): Outcome | null {
  const p = value as { points?: unknown; tie?: unknown } | null;
  if (typeof p !== "object" || p === null) return null;
  const stats = statsOf((p as { stats?: unknown }).stats);
  if (isPoint(p.points)) return { points: p.points, stats };
  if (Array.isArray(p.tie)) return { tie: p.tie.filter(isPoint), stats };
  return null;
}

/** A card from the server (its description and position defaulted). */
function cardOf(value: unknown): Card | null {
  if (!isCard(value)) return null;
  const c = value as Partial<Card> & { id: number; title: string };
  return { id: c.id, title: c.title, description: typeof c.description === "string" ? c.description : "", position: typeof c.position === "number" ? c.position : 0 };
}

function isCard(value: unknown): value is Card {
  if (typeof value !== "object" || value === null) return false;
  const c = value as Record<string, unknown>;
  return typeof c.id === "number" && typeof c.title === "string";
}

const main = mainArea();
const shell = startShell();
const room = pageString("room") ?? "team";
if (shell !== null) party(shell);

function party(shell: Shell): void {
  const me = shell.user.username;
  document.title = `${room} · Pointing party · Cinder`;

  /** The round as the server last said: the card on the table, who drives, the outcome, the timer, the deck, the end. */
  let card: Card | null = null;
  let driver: string | null = null;
  let outcome: Outcome | null = null;
  let estimates: Estimate[] | null = null;
  let deck: Deck = DEFAULT_DECK;
  let deadline: number | null = null;
  let myVote: Point | null = null;
  let joined = false;
  let cards: BacklogCard[] = [];
  let people: Person[] = [];

  const banner = h("div", { class: "banner-slot" });
  const table = h("section", { id: "table", class: "panel table", "aria-label": "The card on the table", "aria-live": "polite" });
  const status = new FormStatus();
  const participants = h("ul", { id: "participants", class: "people", "aria-label": "Participants" });
  const participantCount = h("span", { class: "count" });

  const cardTitle = h("input", { id: "card-title", type: "text", required: true, maxlength: 200, autocomplete: "off", placeholder: "Search filters" });
  const cardDescription = h("textarea", { id: "card-description", rows: 2, maxlength: 2000, placeholder: "What needs doing, and what done looks like." });
  const cardStatus = new FormStatus();
  const addCard = h("form", { id: "add-card", class: "stack compact", novalidate: true },
    field("Title", cardTitle), field("Description (optional)", cardDescription), cardStatus.element,
    h("button", { class: "button", type: "submit" }, "Add card"));

  const channel = shell.socket.channel(`party:${room}`);
  const presence = new Presence(channel);

  /** A readable refusal: the server's own message when it gives one. */
  const refusal = (response: unknown): string => {
    const message = (response as { message?: unknown } | null)?.message;
    return typeof message === "string" ? `${message[0]!.toUpperCase()}${message.slice(1)}.` : replyError(response);
  };
  const pushed = (event: string, payload: Record<string, unknown>): Promise<string | null> => new Promise((resolve) => {
    channel.push(event, payload)
      .receive("ok", () => resolve(null))
      .receive("error", (response) => resolve(refusal(response)))
      .receive("timeout", () => resolve(TIMEOUT_MESSAGE));
  });
  const send = (event: string, payload: Record<string, unknown> = {}, onOk?: () => void): void => {
    status.clear();
    void pushed(event, payload).then((problem) => (problem === null ? onOk?.() : status.error(problem)));
  };

  const backlog = backlogPanel({
    push: pushed,
    summaryText: async () => {
      const response = await fetch(`/api/parties/${encodeURIComponent(room)}/estimates.txt`, { credentials: "same-origin" });
      if (!response.ok) throw new Error(`the server answered ${response.status}`);
      return response.text();
    },
    csvUrl: `/api/parties/${encodeURIComponent(room)}/estimates.csv`,
  });

  main.append(
    pageHead("Pointing party", room, "Vote on each card. Votes stay hidden until everyone has voted.",
      goForm("party", "Go to another party", "another-team", (name) => `/party/${encodeURIComponent(name)}`, "Switch")),
    banner,
    h("div", { class: "layout" },
      h("div", { class: "stack" }, table, status.element),
      h("aside", { class: "stack side" },
        h("section", { class: "panel" }, h("h2", { class: "panel-title" }, "Participants ", participantCount), participants),
        h("section", { class: "panel" },
          h("h2", { class: "panel-title" }, "Backlog"), backlog.list,
          h("details", { class: "add-card" }, h("summary", null, "Add a card"), addCard),
          backlog.summary))));

  /** The vote of a participant (their first meta's card). */
  const voteOf = (p: Person): Point | undefined => p.metas.map((m) => m.points).find(isPoint);

  const renderPeople = (): void => {
    participantCount.textContent = String(people.length);
    const revealed = outcome !== null;
    replace(participants, people.length === 0 ? h("li", { class: "empty" }, "Nobody here yet.") : people.map((p) => {
      const vote = voteOf(p);
      let state: HTMLElement | null = null;
      if (card !== null) {
        if (vote === undefined) state = h("span", { class: "vote-state waiting", dataset: { vote: "waiting" } }, "thinking…");
        else if (revealed) state = h("span", { class: "vote-state revealed", dataset: { vote: String(vote) }, title: `${p.name} voted ${vote}` }, String(vote));
        else state = h("span", { class: "vote-state voted", dataset: { vote: "voted" } }, "✓ voted");
      }
      const row = personRow(p, me, state, false);
      if (p.name === driver) row.querySelector(".person-main")?.append(h("span", { class: "person-meta" }, "driving"));
      return row;
    }));
  };

  const pending = (): number => cards.filter((c) => c.estimate === null).length;

  const picker = deckPicker((payload, onOk) => send("deck", payload, onOk));
  const timer = roundTimer();
  const tick = (): void => {
    timer.set(deadline);
    timer.tick(card !== null && !(outcome !== null && "points" in outcome));
  };
  setInterval(tick, 250);

  const renderTable = (): void => {
    const isDriver = driver === me;
    const mayDrive = driver === null || isDriver;
    if (estimates !== null) {
      const numeric = estimates.filter((e) => typeof e.points === "number");
      const total = numeric.reduce((sum, e) => sum + (e.points as number), 0);
      const left = pending();
      replace(table,
        h("div", { class: "party-over", id: "party-over" },
          h("p", { class: "eyebrow" }, "Party over"),
          h("h2", null, "Every card is estimated"),
          estimates.length === 0 ? h("p", { class: "muted" }, "No card was estimated.") : h("table", { class: "estimates" },
            h("caption", { class: "sr-only" }, "Estimates"),
            h("thead", null, h("tr", null, h("th", { scope: "col" }, "Card"), h("th", { scope: "col", class: "num" }, "Points"))),
            h("tbody", null, estimates.map((e) => h("tr", null, h("td", null, e.card.title,
              e.stats === null ? null : h("span", { class: "muted small" }, ` (${statsText(e.stats)})`)), h("td", { class: "num" }, String(e.points))))),
            h("tfoot", null, h("tr", null, h("th", { scope: "row" }, "Total"), h("td", { class: "num" }, String(total))))),
          left === 0
            ? h("p", { class: "muted" }, "Add cards to the backlog to keep going.")
            : h("button", { class: "button primary", type: "button", id: "start", onclick: () => send("start") },
              `Point the ${left === 1 ? "new card" : `${left} new cards`}`)));
      return;
    }
    if (card === null) {
      replace(table,
        h("div", { class: "table-empty" },
          h("div", { class: "card-stack", "aria-hidden": "true" }, h("span"), h("span"), h("span")),
          h("h2", null, "No card on the table"),
          h("p", { class: "muted" }, "Whoever starts becomes the driver and deals the cards."),
          h("button", { class: "button primary big", type: "button", id: "start", disabled: !joined, onclick: () => send("start") }, "Start pointing!"),
          mayDrive && joined ? picker.show(deck) : null));
      return;
    }
    const voted = people.filter((p) => voteOf(p) !== undefined).length;
    const winner = outcome !== null && "points" in outcome;
    const current = card;
    let result: Child;
    if (outcome === null) {
      result = h("p", { class: "result waiting", id: "result" }, `${voted} of ${plural(people.length, "vote")} in`,
        people.length - voted > 0 ? ` — waiting for ${people.length - voted === 1 ? "one more" : `${people.length - voted} more`}` : "");
    } else if ("points" in outcome) {
      result = h("div", { class: "result winner", id: "result", dataset: { points: String(outcome.points) } },
        h("span", { class: "result-label" }, "Winner"),
        h("span", { class: "result-points" }, String(outcome.points)),
        h("span", { class: "result-label" }, outcome.points === 1 ? "point" : "points"),
        outcome.stats === null ? null : h("span", { class: "result-stats", id: "result-stats" }, statsText(outcome.stats)));
    } else if (outcome.tie.length === 0) {
      result = h("div", { class: "result tie", id: "result", dataset: { tie: "" } },
        h("span", { class: "result-label" }, "No estimate"),
        h("span", { class: "result-hint" }, "Nobody played a card that counts (“?” and “☕” don’t). Talk it over, then vote again."));
    } else {
      result = h("div", { class: "result tie", id: "result", dataset: { tie: outcome.tie.join(",") } },
        h("span", { class: "result-label" }, "Tie"),
        h("span", { class: "result-points" }, outcome.tie.join(" · ")),
        outcome.stats === null ? null : h("span", { class: "result-stats", id: "result-stats" }, statsText(outcome.stats)),
        h("span", { class: "result-hint" }, "Talk it over, then vote again."));
    }
    replace(table,
      h("div", { class: "table-head" },
        h("span", { class: "eyebrow", id: "card-place" }, `Card ${current.position}`),
        timer.element,
        h("span", { class: "driver" }, driver === null ? "" : isDriver ? "You are driving" : `${driver} is driving`)),
      h("article", { class: "story-card", id: "card" },
        h("h2", { id: "card-title-text" }, current.title),
        current.description === "" ? null : h("p", null, current.description)),
      h("div", { class: "votes", role: "group", "aria-label": "Your estimate" },
        deck.values.map((points) => h("button", {
          type: "button", class: `vote${points === "?" || points === "☕" ? " abstain" : ""}`, "aria-pressed": String(myVote === points),
          dataset: { points: String(points) }, title: points === "?" ? "Not sure" : points === "☕" ? "I need a break" : `${points}`,
          disabled: winner, onclick: () => send("vote", { points }, () => { myVote = points; renderTable(); }),
        }, String(points)))),
      result,
      isDriver
        ? h("div", { class: "driver-actions" },
          winner ? h("button", { class: "button", type: "button", id: "revote", onclick: () => send("revote") }, "Vote again") : null,
          winner ? null : h("button", { class: "button", type: "button", id: "reveal", onclick: () => send("reveal") }, "Reveal now"),
          winner ? null : deadline === null
            ? h("span", { class: "timer-buttons" }, h("span", { class: "muted small" }, "Timer:"),
              TIMERS.map((seconds) => h("button", { class: "button small", type: "button", dataset: { timer: String(seconds) }, onclick: () => send("timer", { seconds }) },
                seconds < 60 ? `${seconds} s` : `${seconds / 60} min`)))
            : h("button", { class: "button small", type: "button", id: "stop-timer", onclick: () => send("timer", { seconds: 0 }) }, "Stop the timer"),
          h("button", { class: `button${winner ? " primary" : ""}`, type: "button", id: "next-card", onclick: () => send("next_card") },
            winner ? "Next card →" : "Skip to the next card →"))
        : driver === null
          ? h("div", { class: "driver-actions" },
            h("p", { class: "muted small" }, "Nobody is driving."),
            h("button", { class: "button", type: "button", id: "take-driver", onclick: () => send("take") }, "Take the lead"))
          : h("p", { class: "muted small" }, `${driver} deals the next card once the votes are in.`),
      mayDrive ? picker.show(deck) : h("p", { class: "muted small deck-name" }, `Deck: ${deckLabel(deck)}`));
    tick();
  };

  const showBacklog = (list: BacklogCard[]): void => {
    const before = pending();
    cards = list;
    // The card on the table keeps its title and place in step with the backlog (edits, moves).
    const onTable = card === null ? undefined : list.find((c) => c.id === card!.id);
    if (onTable !== undefined && card !== null) card = { id: onTable.id, title: onTable.title, description: onTable.description, position: onTable.position };
    backlog.render(cards, card?.id ?? null);
    if (onTable !== undefined || (estimates !== null && pending() !== before)) renderTable();
  };

  const loadBacklog = async (): Promise<void> => {
    try {
      const { cards: list } = await api<{ cards: unknown }>("GET", `/api/parties/${encodeURIComponent(room)}/cards`);
      showBacklog(backlogOf(list));
    } catch (error) {
      replace(backlog.list, h("li", { class: "empty" }, `Could not load the backlog: ${errorMessage(error)}`));
    }
  };

  const render = (): void => {
    renderTable();
    renderPeople();
    backlog.render(cards, card?.id ?? null);
  };

  presence.onSync(() => {
    people = sortPeople(presence.list((key, entry) => person(key, entry)), me);
    const mine = people.find((p) => p.name === me);
    myVote = mine === undefined ? myVote : voteOf(mine) ?? null;
    render();
  });

  channel.on("new_card", (payload) => {
    const { card: next, driver: by } = payload as { card?: unknown; driver?: unknown };
    const dealt = cardOf(next);
    if (dealt === null) return;
    card = dealt;
    driver = typeof by === "string" ? by : null;
    outcome = null;
    estimates = null;
    deadline = null;
    myVote = null;
    render();
  });
  channel.on("winner", (payload) => {
    outcome = outcomeOf(payload);
    deadline = null;
    render();
  });
  channel.on("driver", (payload) => {
    const by = (payload as { driver?: unknown }).driver;
    driver = typeof by === "string" ? by : null;
    render();
  });
  channel.on("revote", () => {
    outcome = null;
    myVote = null;
    deadline = null;
    render();
  });
  channel.on("timer", (payload) => {
    const t = payload as { deadline?: unknown; now?: unknown };
    deadline = typeof t.deadline === "number" ? t.deadline : null;
    timer.set(deadline, t.now);
    renderTable();
  });
  channel.on("deck", (payload) => {
    const p = payload as { deck?: unknown; cleared?: unknown };
    deck = deckOf(p.deck) ?? deck;
    if (p.cleared === true) {
      myVote = null;
      if (outcome !== null && !("points" in outcome)) outcome = null;
    }
    renderTable();
  });
  channel.on("backlog", (payload) => showBacklog(backlogOf((payload as { cards?: unknown }).cards)));
  channel.on("party_over", (payload) => {
    const list = (payload as { estimates?: unknown }).estimates;
    estimates = Array.isArray(list)
      ? list.filter((e): e is Estimate => typeof e === "object" && e !== null && isCard((e as Estimate).card) && isPoint((e as Estimate).points))
        .map((e) => ({ ...e, stats: statsOf(e.stats) }))
      : [];
    card = null;
    driver = null;
    outcome = null;
    deadline = null;
    myVote = null;
    render();
    void loadBacklog();
  });

  channel.join()
    .receive("ok", (response) => {
      joined = true;
      replace(banner);
      // The server's round is the truth (also after it restarted): the card on the table, who drives, its outcome, the timer, the deck.
      const r = response as { card?: unknown; driver?: unknown; outcome?: unknown; deadline?: unknown; now?: unknown; deck?: unknown };
      const dealt = cardOf(r.card);
      const changed = dealt !== null ? dealt.id !== card?.id : card !== null && estimates === null;
      if (changed) myVote = null;
      if (dealt !== null || changed) card = dealt;
      outcome = outcomeOf(r.outcome);
      driver = typeof r.driver === "string" ? r.driver : null;
      deadline = typeof r.deadline === "number" ? r.deadline : null;
      timer.set(deadline, r.now);
      deck = deckOf(r.deck) ?? DEFAULT_DECK;
      render();
      void loadBacklog();
    })
    .receive("error", (response) => {
      replace(banner, notice("error", "Could not join this party", replyError(response)));
    });

  addCard.addEventListener("submit", async (event) => {
    event.preventDefault();
    cardStatus.clear();
    const title = cardTitle.value.trim();
    if (title === "") return cardStatus.error("Give the card a title.");
    try {
      await api<BacklogCard>("POST", `/api/parties/${encodeURIComponent(room)}/cards`, { title, description: cardDescription.value.trim() });
      addCard.reset();
      cardStatus.ok(`Added “${title}”.`);
    } catch (error) {
      cardStatus.error(errorMessage(error));
    }
  });

  render();
}
