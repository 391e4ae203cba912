/** The apps tried with hostile input on PostgreSQL. */
import { hostileContract } from "./support/hostile-contract.js";

hostileContract("postgres");
