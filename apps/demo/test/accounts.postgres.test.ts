/** Accounts and sessions on PostgreSQL. */
import { accountsContract } from "./support/accounts-contract.js";

accountsContract("postgres");
