/** The apps tried with hostile input on SQLite. */
import { hostileContract } from "./support/hostile-contract.js";

hostileContract("sqlite");
