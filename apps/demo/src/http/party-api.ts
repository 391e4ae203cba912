/**
 * The pointing party's HTTP API: a party's backlog (`GET`), adding a card (`POST`, everyone in
 * the party sees it live), and the estimates summary as CSV (`GET .../estimates.csv`, a
 * download) or text (`GET .../estimates.txt`).
 */
import type { IncomingMessage } from "node:http";
import { partyCards } from "../channels/party.js";
import type { Store, User } from "../db/store.js";
import { summaryCsv, summaryFilename, summaryText } from "../party/summary.js";
import { json, readJson } from "./respond.js";
import type { Router } from "./router.js";

/** What the party routes need from the API. */
export interface PartyApiContext {
  store: Store;
  broadcast(topic: string, event: string, payload: unknown): void;
  requireUser(request: IncomingMessage): Promise<User>;
  /** A checked text field (throws a 400 HttpError). */
  text(value: unknown, field: string, min: number, max: number): string;
  /** A JSON object body (throws a 400 HttpError). */
  object(body: unknown): Record<string, unknown>;
}

/** Registers the party routes. */
export function addPartyRoutes(router: Router, { store, broadcast, requireUser, text, object }: PartyApiContext): void {
  router.add("GET", "/api/parties/:room/cards", async (request, response, params) => {
    await requireUser(request);
    const room = text(params.room, "room", 1, 100);
    json(response, 200, { cards: await partyCards(store, room) });
  });

  router.add("POST", "/api/parties/:room/cards", async (request, response, params) => {
    await requireUser(request);
    const room = text(params.room, "room", 1, 100);
    const body = object(await readJson(request));
    const title = text(body.title, "title", 1, 200);
    const description = text(body.description ?? "", "description", 0, 2000);
    await partyCards(store, room);
    const id = await store.party.addCard(room, title, description);
    const cards = await store.party.cards(room);
    // Everyone in the party sees the new card live, with its place in the backlog.
    broadcast(`party:${room}`, "backlog", { cards });
    json(response, 201, cards.find((c) => c.id === id));
  });

  for (const format of ["csv", "txt"] as const) {
    router.add("GET", `/api/parties/:room/estimates.${format}`, async (request, response, params) => {
      await requireUser(request);
      const room = text(params.room, "room", 1, 100);
      const cards = await partyCards(store, room);
      const headers: Record<string, string> = { "cache-control": "no-store", "x-content-type-options": "nosniff" };
      if (format === "csv") {
        headers["content-type"] = "text/csv; charset=utf-8";
        headers["content-disposition"] = `attachment; filename="${summaryFilename(room)}"`;
      } else headers["content-type"] = "text/plain; charset=utf-8";
      response.writeHead(200, headers);
      response.end(format === "csv" ? summaryCsv(cards) : summaryText(room, cards));
    });
  }
}
