/**
 * The retro board's view: the stage stepper, the three columns of ideas (add, edit and delete
 * one's own while brainstorming; vote within the budget during the vote), the action items
 * with their owners, and the facilitator's controls. It renders the board the server sent and
 * turns clicks into intents; the page pushes them and the server decides.
 */
import type { ActionItem, Board, Column, Stage } from "./contracts.js";
import { avatar, h, plural, replace } from "./dom.js";

export type { ActionItem, Board, Column, Idea, Stage } from "./contracts.js";

/** The stages, in order, with their labels (the server's `STAGES`). */
export const STAGE_LABELS: Record<Stage, string> = { brainstorm: "Brainstorm", vote: "Vote", discuss: "Discuss", actions: "Actions" };
const STAGE_ORDER = Object.keys(STAGE_LABELS) as Stage[];
/** The columns, in order, with their headings (the server's `COLUMNS`). */
export const COLUMN_LABELS: Record<Column, string> = { went_well: "Went well", to_improve: "To improve", questions: "Questions" };
const COLUMN_HINTS: Record<Column, string> = {
  went_well: "What should we keep doing?", to_improve: "What slowed us down?", questions: "What are you unsure about?",
};

/** What the board's controls ask for (the page pushes them). */
export interface BoardIntents {
  addIdea(column: Column, body: string): void;
  editIdea(id: number, body: string): void;
  deleteIdea(id: number): void;
  vote(id: number, change: 1 | -1): void;
  setStage(stage: Stage): void;
  pass(to: string): void;
  claim(): void;
  addAction(body: string, owner: string | null): void;
  setOwner(action: ActionItem, owner: string | null): void;
  deleteAction(id: number): void;
}

/** The board's state as the page keeps it. */
export interface BoardState {
  board: Board;
  me: string;
  /** Usernames present in the room now. */
  present: string[];
  /** The idea being edited, if any. */
  editing: number | undefined;
}

/** How many votes `me` has cast. */
export function votesUsed(board: Board, me: string): number {
  return board.ideas.reduce((sum, idea) => sum + (idea.voters[me] ?? 0), 0);
}

/** Renders the board into `root`, keeping what was typed in its text fields and the focus. */
export function renderBoard(root: HTMLElement, state: BoardState, intents: BoardIntents, onEdit: (id: number | undefined) => void): void {
  const drafts = new Map<string, string>();
  for (const input of root.querySelectorAll<HTMLInputElement>("input[type=text]")) drafts.set(input.id, input.value);
  const focused = document.activeElement instanceof HTMLElement && root.contains(document.activeElement) ? document.activeElement.id : "";

  const { board, me } = state;
  const facilitating = board.facilitator === me;
  const used = votesUsed(board, me);
  const left = board.vote_budget - used;
  replace(root,
    stageBar(state, intents),
    h("p", { id: "votes-left", class: "votes-left", hidden: board.stage !== "vote" },
      `${plural(left, "vote")} left of ${board.vote_budget}`, left === 0 ? " — take one back to move it" : ""),
    h("div", { class: "board-columns" },
      (Object.keys(COLUMN_LABELS) as Column[]).map((column) => columnView(state, column, left, intents, onEdit))),
    actionsView(state, intents, facilitating));

  for (const [id, value] of drafts) {
    const input = id === "" ? null : root.querySelector<HTMLInputElement>(`#${CSS.escape(id)}`);
    // Every field's typed text wins over the rendered one (an idea's edit field is rendered holding
    // the stored body: keeping only empty fields lost a half-typed edit on someone else's change).
    if (input !== null) input.value = value;
  }
  if (focused !== "") root.querySelector<HTMLElement>(`#${CSS.escape(focused)}`)?.focus();
}

function stageBar(state: BoardState, intents: BoardIntents): HTMLElement {
  const { board, me, present } = state;
  const index = STAGE_ORDER.indexOf(board.stage);
  const facilitating = board.facilitator === me;
  const facilitatorHere = board.facilitator !== null && present.includes(board.facilitator);
  const others = present.filter((name) => name !== me);
  const passTo = h("select", { id: "pass-to", "aria-label": "Hand facilitation to" },
    others.map((name) => h("option", { value: name }, name)));
  return h("section", { class: "panel stage-bar", "aria-label": "Stages" },
    h("ol", { id: "stages", class: "stages" },
      STAGE_ORDER.map((stage, i) => h("li", {
        class: `stage${i < index ? " done" : ""}`, dataset: { stage }, "aria-current": stage === board.stage ? "step" : false,
      }, h("span", { class: "stage-number" }, String(i + 1)), STAGE_LABELS[stage]))),
    h("div", { class: "stage-controls" },
      h("span", { id: "facilitator", class: "facilitator" }, "Facilitator: ",
        board.facilitator === null ? "nobody" : h("strong", null, board.facilitator),
        facilitating ? " (you)" : board.facilitator !== null && !facilitatorHere ? " (away)" : ""),
      facilitating
        ? [
          h("button", { class: "button", type: "button", id: "stage-back", disabled: index === 0, onclick: () => intents.setStage(STAGE_ORDER[index - 1]!) },
            "← Back"),
          h("button", { class: "button primary", type: "button", id: "stage-next", disabled: index === STAGE_ORDER.length - 1,
            onclick: () => intents.setStage(STAGE_ORDER[index + 1]!) },
          index < STAGE_ORDER.length - 1 ? `Next: ${STAGE_LABELS[STAGE_ORDER[index + 1]!]} →` : "Last stage"),
          others.length === 0 ? null : h("span", { class: "pass" }, passTo,
            h("button", { class: "button ghost", type: "button", id: "pass", onclick: () => intents.pass(passTo.value) }, "Hand over")),
        ]
        : facilitatorHere ? null
          : h("button", { class: "button", type: "button", id: "claim", onclick: () => intents.claim() }, "Take over facilitation")));
}

function columnView(state: BoardState, column: Column, left: number, intents: BoardIntents, onEdit: (id: number | undefined) => void): HTMLElement {
  const { board, me } = state;
  const ideas = board.ideas.filter((idea) => idea.column === column)
    .sort(board.stage === "brainstorm" ? (a, b) => a.id - b.id : (a, b) => b.votes - a.votes || a.id - b.id);
  const input = h("input", { id: `idea-input-${column}`, class: "grow", type: "text", maxlength: 500, autocomplete: "off",
    placeholder: COLUMN_HINTS[column], "aria-label": `New idea: ${COLUMN_LABELS[column]}` });
  const form = h("form", { class: "idea-form" }, input, h("button", { class: "button", type: "submit" }, "Add"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const body = input.value.trim();
    if (body === "") return;
    input.value = "";
    intents.addIdea(column, body);
  });
  return h("section", { class: `panel board-column column-${column}`, dataset: { column }, "aria-label": COLUMN_LABELS[column] },
    h("h2", { class: "panel-title" }, COLUMN_LABELS[column], " ", h("span", { class: "count" }, String(ideas.length))),
    h("ul", { class: "ideas" },
      ideas.length === 0 ? h("li", { class: "empty" }, "Nothing yet.") : ideas.map((idea) => ideaView(state, idea, left, intents, onEdit))),
    board.stage === "brainstorm" ? form : null);
}

function ideaView(state: BoardState, idea: Board["ideas"][number], left: number, intents: BoardIntents, onEdit: (id: number | undefined) => void): HTMLElement {
  const { board, me } = state;
  const mine = idea.author === me;
  const myVotes = idea.voters[me] ?? 0;
  if (state.editing === idea.id && mine && board.stage === "brainstorm") {
    const input = h("input", { id: `idea-edit-${idea.id}`, class: "grow", type: "text", maxlength: 500, value: idea.body, "aria-label": "Edit idea" });
    const form = h("form", { class: "idea-form" }, input,
      h("button", { class: "button primary", type: "submit" }, "Save"),
      h("button", { class: "button ghost", type: "button", onclick: () => onEdit(undefined) }, "Cancel"));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const body = input.value.trim();
      if (body !== "") intents.editIdea(idea.id, body);
      onEdit(undefined);
    });
    queueMicrotask(() => input.focus());
    return h("li", { class: "idea editing", dataset: { id: String(idea.id) } }, form);
  }
  return h("li", { class: `idea${mine ? " mine" : ""}`, dataset: { id: String(idea.id), author: idea.author } },
    h("p", { class: "idea-body" }, idea.body),
    h("div", { class: "idea-meta" },
      h("span", { class: "idea-author" }, avatar(idea.author, "sm"), idea.author),
      board.stage === "brainstorm" ? null : h("span", { class: "idea-votes", title: "Votes" }, plural(idea.votes, "vote")),
      myVotes > 0 ? h("span", { class: "badge my-votes" }, `yours: ${myVotes}`) : null),
    h("div", { class: "idea-actions" },
      board.stage === "vote"
        ? [
          h("button", { class: "button small vote-add", type: "button", disabled: left <= 0, onclick: () => intents.vote(idea.id, 1),
            "aria-label": `Vote for: ${idea.body}` }, "+ Vote"),
          myVotes > 0 ? h("button", { class: "button small ghost vote-remove", type: "button", onclick: () => intents.vote(idea.id, -1),
            "aria-label": `Take a vote back from: ${idea.body}` }, "− Unvote") : null,
        ]
        : null,
      board.stage === "brainstorm" && mine
        ? [
          h("button", { class: "button small ghost idea-edit", type: "button", onclick: () => onEdit(idea.id) }, "Edit"),
          h("button", { class: "button small ghost danger idea-delete", type: "button", onclick: () => intents.deleteIdea(idea.id) }, "Delete"),
        ]
        : null));
}

function ownerSelect(id: string, state: BoardState, current: string | null, label: string): HTMLSelectElement {
  const names = [...new Set([...state.present, ...state.board.actions.map((a) => a.owner).filter((o): o is string => o !== null)])].sort();
  if (current !== null && !names.includes(current)) names.push(current);
  return h("select", { id, "aria-label": label },
    h("option", { value: "" }, "Unassigned"),
    names.map((name) => h("option", { value: name, selected: name === current }, name)));
}

function actionsView(state: BoardState, intents: BoardIntents, facilitating: boolean): HTMLElement {
  const { board, me } = state;
  const open = board.stage === "discuss" || board.stage === "actions";
  const input = h("input", { id: "action-input", class: "grow", type: "text", maxlength: 500, autocomplete: "off",
    placeholder: "What will we do, and who owns it?", "aria-label": "New action item" });
  const owner = ownerSelect("action-owner", state, null, "Owner of the new action item");
  const form = h("form", { class: "idea-form", id: "action-form" }, input, owner, h("button", { class: "button primary", type: "submit" }, "Add action"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const body = input.value.trim();
    if (body === "") return;
    input.value = "";
    intents.addAction(body, owner.value === "" ? null : owner.value);
  });
  return h("section", { class: "panel actions-panel", "aria-label": "Action items" },
    h("h2", { class: "panel-title" }, "Action items ", h("span", { class: "count" }, String(board.actions.length))),
    h("ul", { id: "action-items", class: "action-items" },
      board.actions.length === 0
        ? h("li", { class: "empty" }, open ? "No action items yet." : "Action items are written once the discussion starts.")
        : board.actions.map((action) => {
          const mayChange = action.author === me || facilitating;
          const select = ownerSelect(`action-owner-${action.id}`, state, action.owner, `Owner of: ${action.body}`);
          select.addEventListener("change", () => intents.setOwner(action, select.value === "" ? null : select.value));
          return h("li", { class: "action", dataset: { id: String(action.id) } },
            h("span", { class: "action-body" }, action.body),
            mayChange ? select : h("span", { class: "action-owner" }, action.owner ?? "unassigned"),
            mayChange ? h("button", { class: "button small ghost danger action-delete", type: "button", onclick: () => intents.deleteAction(action.id) }, "Delete") : null);
        })),
    open ? form : null);
}
