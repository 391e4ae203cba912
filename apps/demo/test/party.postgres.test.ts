/** The pointing party's contract on PostgreSQL (skipped with a message when it is not reachable). */
import { partyContract } from "./support/party-contract.js";

partyContract("postgres");
