/** The apps' contract on SQLite (the default storage). */
import { appContract } from "./support/contract.js";

appContract("sqlite");
