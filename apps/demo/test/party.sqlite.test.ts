/** The pointing party's contract on SQLite. */
import { partyContract } from "./support/party-contract.js";

partyContract("sqlite");
