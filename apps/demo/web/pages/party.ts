/**
 * The pointing party (`party:<room>`): who is here and who has voted — not what they voted —
 * until the reveal; the card on the table; the vote buttons; the driver's buttons (start, next
 * card); the result (a winner or a tie) and, at the end, the party's estimates. The backlog
 * (cards and their stored estimates) comes from the API, where cards can be added too.
 */
import { Presence } from "@cinder/client";
import { api, errorMessage } from "../lib/api.js";
import { replyError, TIMEOUT_MESSAGE } from "../lib/channels.js";
import { FormStatus, field, goForm, h, mainArea, notice, pageHead, plural, replace, type Child } from "../lib/dom.js";
import { pageString } from "../lib/globals.js";
import { person, personRow, sortPeople, type Person } from "../lib/people.js";
import { startShell, type Shell } from "../lib/shell.js";

/** The allowed estimates. */
const POINTS = [1, 2, 3, 5, 8, 13] as const;

interface Card {
  id: number;
  title: string;
  description: string;
  /** The card's place in the backlog (1-based). */
  position: number;
}

interface BacklogCard extends Card {
  estimate: number | null;
}

type Outcome = { points: number } | { tie: number[] };

interface Estimate {
  card: Card;
  points: number;
}

/** An outcome from the server, or null. */
function outcomeOf(value: unknown): Outcome | null {
  const p = value as { points?: unknown; tie?: unknown } | null;
  if (typeof p !== "object" || p === null) return null;
  if (typeof p.points === "number") return { points: p.points };
  if (Array.isArray(p.tie)) return { tie: p.tie.filter((n): n is number => typeof n === "number") };
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

  /** The round: the card on the table, who drives, the outcome once everyone voted, the end. */
  let card: Card | null = null;
  let driver: string | null = null;
  let outcome: Outcome | null = null;
  let estimates: Estimate[] | null = null;
  let myVote: number | null = null;
  let joined = false;
  /** How many backlog cards have no estimate yet (from the last backlog load). */
  let pending = 0;
  let people: Person[] = [];

  const banner = h("div", { class: "banner-slot" });
  const table = h("section", { id: "table", class: "panel table", "aria-label": "The card on the table", "aria-live": "polite" });
  const status = new FormStatus();
  const participants = h("ul", { id: "participants", class: "people", "aria-label": "Participants" });
  const participantCount = h("span", { class: "count" });
  const backlog = h("ol", { id: "backlog", class: "backlog", "aria-label": "Backlog" });

  const cardTitle = h("input", { id: "card-title", type: "text", required: true, maxlength: 200, autocomplete: "off", placeholder: "Search filters" });
  const cardDescription = h("textarea", { id: "card-description", rows: 2, maxlength: 2000, placeholder: "What needs doing, and what done looks like." });
  const cardStatus = new FormStatus();
  const addCard = h("form", { id: "add-card", class: "stack compact", novalidate: true },
    field("Title", cardTitle), field("Description (optional)", cardDescription), cardStatus.element,
    h("button", { class: "button", type: "submit" }, "Add card"));

  main.append(
    pageHead("Pointing party", room, "Vote on each card. Votes stay hidden until everyone has voted.",
      goForm("party", "Go to another party", "another-team", (name) => `/party/${encodeURIComponent(name)}`, "Switch")),
    banner,
    h("div", { class: "layout" },
      h("div", { class: "stack" }, table, status.element),
      h("aside", { class: "stack side" },
        h("section", { class: "panel" }, h("h2", { class: "panel-title" }, "Participants ", participantCount), participants),
        h("section", { class: "panel" },
          h("h2", { class: "panel-title" }, "Backlog"), backlog,
          h("details", { class: "add-card" }, h("summary", null, "Add a card"), addCard)))));

  const channel = shell.socket.channel(`party:${room}`);
  const presence = new Presence(channel);

  /** The vote of a participant (their first numeric meta). */
  const voteOf = (p: Person): number | undefined => p.metas.map((m) => m.points).find((v): v is number => typeof v === "number");

  const send = (event: "start" | "next_card" | "vote" | "revote" | "take", payload: Record<string, unknown> = {}, onOk?: () => void): void => {
    status.clear();
    channel.push(event, payload)
      .receive("ok", () => onOk?.())
      .receive("error", (response) => status.error(replyError(response)))
      .receive("timeout", () => status.error(TIMEOUT_MESSAGE));
  };

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

  const renderTable = (): void => {
    const isDriver = driver === me;
    if (estimates !== null) {
      const total = estimates.reduce((sum, e) => sum + e.points, 0);
      replace(table,
        h("div", { class: "party-over", id: "party-over" },
          h("p", { class: "eyebrow" }, "Party over"),
          h("h2", null, "Every card is estimated"),
          estimates.length === 0 ? h("p", { class: "muted" }, "No card was estimated.") : h("table", { class: "estimates" },
            h("caption", { class: "sr-only" }, "Estimates"),
            h("thead", null, h("tr", null, h("th", { scope: "col" }, "Card"), h("th", { scope: "col", class: "num" }, "Points"))),
            h("tbody", null, estimates.map((e) => h("tr", null, h("td", null, e.card.title), h("td", { class: "num" }, String(e.points))))),
            h("tfoot", null, h("tr", null, h("th", { scope: "row" }, "Total"), h("td", { class: "num" }, String(total))))),
          pending === 0
            ? h("p", { class: "muted" }, "Add cards to the backlog to keep going.")
            : h("button", { class: "button primary", type: "button", id: "start", onclick: () => send("start") },
              `Point the ${pending === 1 ? "new card" : `${pending} new cards`}`)));
      return;
    }
    if (card === null) {
      replace(table,
        h("div", { class: "table-empty" },
          h("div", { class: "card-stack", "aria-hidden": "true" }, h("span"), h("span"), h("span")),
          h("h2", null, "No card on the table"),
          h("p", { class: "muted" }, "Whoever starts becomes the driver and deals the cards."),
          h("button", { class: "button primary big", type: "button", id: "start", disabled: !joined, onclick: () => send("start") }, "Start pointing!")));
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
        h("span", { class: "result-label" }, outcome.points === 1 ? "point" : "points"));
    } else {
      result = h("div", { class: "result tie", id: "result", dataset: { tie: outcome.tie.join(",") } },
        h("span", { class: "result-label" }, "Tie"),
        h("span", { class: "result-points" }, outcome.tie.join(" · ")),
        h("span", { class: "result-hint" }, "Talk it over, then vote again."));
    }
    replace(table,
      h("div", { class: "table-head" },
        h("span", { class: "eyebrow", id: "card-place" }, `Card ${current.position}`),
        h("span", { class: "driver" }, driver === null ? "" : isDriver ? "You are driving" : `${driver} is driving`)),
      h("article", { class: "story-card", id: "card" },
        h("h2", { id: "card-title-text" }, current.title),
        current.description === "" ? null : h("p", null, current.description)),
      h("div", { class: "votes", role: "group", "aria-label": "Your estimate" },
        POINTS.map((points) => h("button", {
          type: "button", class: "vote", "aria-pressed": String(myVote === points), dataset: { points: String(points) },
          disabled: winner, onclick: () => send("vote", { points }, () => { myVote = points; renderTable(); }),
        }, String(points)))),
      result,
      isDriver
        ? h("div", { class: "driver-actions" },
          winner ? h("button", { class: "button", type: "button", id: "revote", onclick: () => send("revote") }, "Vote again") : null,
          h("button", { class: `button${winner ? " primary" : ""}`, type: "button", id: "next-card", onclick: () => send("next_card") },
            winner ? "Next card →" : "Skip to the next card →"))
        : driver === null
          ? h("div", { class: "driver-actions" },
            h("p", { class: "muted small" }, "Nobody is driving."),
            h("button", { class: "button", type: "button", id: "take-driver", onclick: () => send("take") }, "Take the lead"))
          : h("p", { class: "muted small" }, `${driver} deals the next card once the votes are in.`));
  };

  const loadBacklog = async (): Promise<void> => {
    try {
      const { cards } = await api<{ cards: BacklogCard[] }>("GET", `/api/parties/${encodeURIComponent(room)}/cards`);
      const before = pending;
      pending = cards.filter((c) => c.estimate === null).length;
      if (pending !== before && estimates !== null) renderTable();
      replace(backlog, cards.length === 0 ? h("li", { class: "empty" }, "No cards yet.") : cards.map((c) =>
        h("li", { class: `backlog-item${card?.id === c.id ? " current" : ""}`, dataset: { id: String(c.id) } },
          h("span", { class: "backlog-title" }, c.title),
          c.estimate === null
            ? h("span", { class: "estimate none", title: "Not estimated yet" }, "–")
            : h("span", { class: "estimate", title: `${plural(c.estimate, "point")}`, dataset: { estimate: String(c.estimate) } }, String(c.estimate)))));
    } catch (error) {
      replace(backlog, h("li", { class: "empty" }, `Could not load the backlog: ${errorMessage(error)}`));
    }
  };

  const render = (): void => {
    renderTable();
    renderPeople();
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
    myVote = null;
    render();
    void loadBacklog();
  });
  channel.on("winner", (payload) => {
    outcome = outcomeOf(payload);
    render();
    void loadBacklog();
  });
  channel.on("driver", (payload) => {
    const by = (payload as { driver?: unknown }).driver;
    driver = typeof by === "string" ? by : null;
    render();
  });
  channel.on("revote", () => {
    outcome = null;
    myVote = null;
    render();
  });
  channel.on("card_added", () => { void loadBacklog(); });
  channel.on("party_over", (payload) => {
    const list = (payload as { estimates?: unknown }).estimates;
    estimates = Array.isArray(list)
      ? list.filter((e): e is Estimate => typeof e === "object" && e !== null && isCard((e as Estimate).card) && typeof (e as Estimate).points === "number")
      : [];
    card = null;
    driver = null;
    outcome = null;
    myVote = null;
    render();
    void loadBacklog();
  });

  channel.join()
    .receive("ok", (response) => {
      joined = true;
      replace(banner);
      // The server's round is the truth: the card on the table, who drives, and its outcome.
      const r = response as { card?: unknown; driver?: unknown; outcome?: unknown };
      const dealt = cardOf(r.card);
      const changed = dealt !== null ? dealt.id !== card?.id : card !== null && estimates === null;
      if (changed) {
        card = dealt;
        myVote = null;
      }
      outcome = outcomeOf(r.outcome);
      driver = typeof r.driver === "string" ? r.driver : null;
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
      await api("POST", `/api/parties/${encodeURIComponent(room)}/cards`, { title, description: cardDescription.value.trim() });
      addCard.reset();
      cardStatus.ok(`Added “${title}”.`);
      await loadBacklog();
    } catch (error) {
      cardStatus.error(errorMessage(error));
    }
  });

  render();
}
