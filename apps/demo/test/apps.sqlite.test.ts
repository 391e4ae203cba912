/** The apps' contract on SQLite (the default storage). */
import { appContract } from "./support/contract.js";
import { retroContract } from "./support/retro-contract.js";

appContract("sqlite");

retroContract("sqlite");
