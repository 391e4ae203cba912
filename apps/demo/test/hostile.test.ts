/** The apps tried with hostile input, on SQLite and on PostgreSQL. */
import { hostileContract } from "./support/hostile-contract.js";

hostileContract("sqlite");

hostileContract("postgres");
