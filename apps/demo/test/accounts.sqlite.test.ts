/** Accounts and sessions on SQLite. */
import { accountsContract } from "./support/accounts-contract.js";

accountsContract("sqlite");
